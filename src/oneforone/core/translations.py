"""The message catalogues: completeness checks and compiling, without GNU gettext.

The .po files under `LOCALE_PATHS` are the source; the .mo files beside them are compiled here with
polib and committed, so a fresh machine with Python alone serves every language. Extracting new
strings from the code (`makemessages`) needs GNU gettext and is the translators' step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polib
from django.conf import settings

PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]")


@dataclass(frozen=True)
class Catalogue:
    language: str
    po_path: Path

    @property
    def name(self) -> str:
        """e.g. `nl/djangojs`: the language and the domain, for reports."""
        return f"{self.language}/{self.po_path.stem}"

    @property
    def mo_path(self) -> Path:
        return self.po_path.with_suffix(".mo")

    def load(self) -> polib.POFile:
        return polib.pofile(str(self.po_path))


# `django`: templates and Python code; `djangojs`: the scripts, served by /jsi18n/.
DOMAINS = ("django", "djangojs")


def catalogues() -> list[Catalogue]:
    """One catalogue per language other than the source language (English) and domain."""
    base = Path(settings.LOCALE_PATHS[0])
    return [
        Catalogue(code, base / code / "LC_MESSAGES" / f"{domain}.po")
        for code, _ in settings.LANGUAGES
        if code != settings.LANGUAGE_CODE
        for domain in DOMAINS
    ]


def problems(catalogue: Catalogue) -> list[str]:
    """What keeps a catalogue from being complete: a missing file, an untranslated or fuzzy
    entry, a translation whose placeholders differ from the English text's."""
    if not catalogue.po_path.exists():
        return [f"{catalogue.language}: no catalogue at {catalogue.po_path.name}"]
    found = []
    for entry in catalogue.load():
        if entry.obsolete:
            continue
        label = f"{catalogue.language}: {entry.msgid[:70]!r}"
        if "fuzzy" in entry.flags:
            found.append(f"{label} is marked fuzzy; check the translation and remove the flag")
        elif not entry.translated():
            found.append(f"{label} has no translation")
        else:
            found.extend(f"{label}: {p}" for p in _placeholder_mismatches(entry))
    return found


def _placeholder_mismatches(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        expected = sorted(PLACEHOLDER.findall(entry.msgid_plural))
        translations = list(entry.msgstr_plural.values())
    else:
        expected = sorted(PLACEHOLDER.findall(entry.msgid))
        translations = [entry.msgstr]
    return [
        f"placeholders {sorted(PLACEHOLDER.findall(text))} differ from {expected}"
        for text in translations
        if set(PLACEHOLDER.findall(text)) != set(expected)
    ]


def compile_catalogue(catalogue: Catalogue) -> None:
    catalogue.load().save_as_mofile(str(catalogue.mo_path))


def compiled_is_current(catalogue: Catalogue) -> bool:
    """The committed .mo holds exactly the .po's translations."""
    if not catalogue.mo_path.exists():
        return False
    return _translations(catalogue.load()) == _translations(polib.mofile(str(catalogue.mo_path)))


def _translations(catalogue: polib.POFile | polib.MOFile) -> dict[tuple[str, str], object]:
    # Obsolete and untranslated entries never reach a .mo file.
    return {
        (entry.msgctxt or "", entry.msgid): (
            tuple(sorted(entry.msgstr_plural.items())) if entry.msgid_plural else entry.msgstr
        )
        for entry in catalogue
        if entry.msgid
        and not entry.obsolete
        and (entry.msgstr or any(entry.msgstr_plural.values()))
    }
