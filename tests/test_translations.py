"""English, Dutch and French: complete catalogues, compiled files in step, pages in the chosen
language. CI fails on a string marked for translation that a catalogue does not translate."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import formats, translation

from oneforone.core import translations

# The autouse fixtures of conftest put seeded rows back, so every test here reaches the database.
pytestmark = pytest.mark.django_db

PACKAGE = Path(settings.BASE_DIR)
GETTEXT = shutil.which("xgettext") and shutil.which("msgmerge")


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_every_language_has_a_catalogue_for_the_code_and_for_the_scripts(language: str) -> None:
    names = [c.name for c in translations.catalogues()]
    assert f"{language}/django" in names
    assert f"{language}/djangojs" in names


@pytest.mark.parametrize("catalogue", translations.catalogues(), ids=lambda c: c.name)
def test_every_entry_is_translated_with_the_same_placeholders(
    catalogue: translations.Catalogue,
) -> None:
    assert translations.problems(catalogue) == []


@pytest.mark.parametrize("catalogue", translations.catalogues(), ids=lambda c: c.name)
def test_the_compiled_catalogue_holds_exactly_the_po_translations(
    catalogue: translations.Catalogue,
) -> None:
    assert translations.compiled_is_current(catalogue), "run `oneforone translations --compile`"


def test_a_fuzzy_or_missing_translation_is_reported(tmp_path: Path) -> None:
    po = polib.POFile()
    po.append(polib.POEntry(msgid="Dashboard", msgstr=""))
    po.append(polib.POEntry(msgid="Registry", msgstr="Register", flags=["fuzzy"]))
    po.append(polib.POEntry(msgid="Log out %(name)s", msgstr="Afmelden"))
    po.append(polib.POEntry(msgid="Verify", msgstr="Controleren"))
    path = tmp_path / "django.po"
    po.save(str(path))

    found = translations.problems(translations.Catalogue("nl", path))

    assert found == [
        "nl: 'Dashboard' has no translation",
        "nl: 'Registry' is marked fuzzy; check the translation and remove the flag",
        "nl: 'Log out %(name)s': placeholders [] differ from ['%(name)s']",
    ]


@pytest.mark.skipif(
    not GETTEXT and not os.environ.get("CI"),
    reason="extracting strings needs GNU gettext (xgettext, msgmerge); CI installs it",
)
def test_the_catalogues_hold_every_string_marked_in_the_code(
    tmp_path: Path, settings: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Extract the marked strings from a copy of the code into a copy of the catalogues: any
    msgid that appears or disappears means the committed catalogues are out of step."""
    committed = {c.po_path: {e.msgid for e in c.load()} for c in translations.catalogues()}
    copy = tmp_path / "oneforone"
    shutil.copytree(
        PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo", ".oneforone")
    )
    settings.LOCALE_PATHS = [copy / "locale"]  # type: ignore[attr-defined]
    monkeypatch.chdir(copy)

    for domain in translations.DOMAINS:
        call_command(
            "makemessages",
            locale=["nl", "fr"],
            domain=domain,
            no_location=True,
            no_obsolete=True,
            verbosity=0,
        )

    for po_path, msgids in committed.items():
        extracted_po = copy / po_path.relative_to(PACKAGE)
        extracted = {e.msgid for e in polib.pofile(str(extracted_po))}
        assert sorted(extracted - msgids) == [], (
            "new strings: run `oneforone makemessages -l nl -l fr --no-location --no-obsolete` "
            "(and again with `-d djangojs`) in src/oneforone, translate them, then "
            "`oneforone translations --compile`"
        )
        assert sorted(msgids - extracted) == [], "strings no longer in the code: run makemessages"


@pytest.mark.parametrize(
    ("language", "heading"),
    [
        ("en", "Verify a certificate"),
        ("nl", "Een certificaat controleren"),
        ("fr", "Vérifier un certificat"),
    ],
)
def test_a_page_speaks_the_language_the_visitor_chose(
    client: Client, language: str, heading: str
) -> None:
    response = client.post(
        reverse("set_language"), {"language": language, "next": reverse("verify-search")}
    )
    page = client.get(response["Location"]).content.decode()

    assert f'<html lang="{language}">' in page
    assert f"<h1>{heading}</h1>" in page
    assert f'value="{language}" lang="{language}" aria-current="true">' in page
    # Each language is offered in its own name, whatever the page's language.
    assert ">English</button>" in page
    assert ">Nederlands</button>" in page


def test_the_browser_language_is_the_default(client: Client) -> None:
    page = client.get(reverse("login"), headers={"accept-language": "fr-BE,fr;q=0.9"}).content
    assert "<h1>Se connecter</h1>" in page.decode()


def test_numbers_follow_the_language() -> None:
    with translation.override("nl"):
        assert formats.number_format(1234567, force_grouping=True) == "1.234.567"
    with translation.override("fr"):
        assert formats.number_format(1234567, force_grouping=True) == "1\xa0234\xa0567"
    with translation.override("en"):
        assert formats.number_format(1234567, force_grouping=True) == "1,234,567"


def test_messages_written_by_the_code_are_translated_too(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nl"

    page = client.get(reverse("registry"), {"q": "C-AAAAAAAAAA"}).content.decode()

    assert "Geen certificaat &#x27;C-AAAAAAAAAA&#x27;. Codes zien eruit als C-7K3M9Q2XPA" in page


def test_the_scripts_get_their_texts_in_the_chosen_language(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"

    catalogue = client.get(reverse("javascript-catalog")).content.decode()

    assert (
        '"Location: taken, within %(metres)s m.": '
        '"Position : relev\\u00e9e, \\u00e0 %(metres)s m pr\\u00e8s."'
    ) in catalogue
    assert "Django administration" not in catalogue  # oneforone's script texts only


def test_the_intake_page_loads_the_catalogue_before_its_script() -> None:
    template = (PACKAGE / "templates" / "collection" / "intake.html").read_text()

    assert template.index("{% url 'javascript-catalog' %}") < template.index("intake.js")
