"""Every word a person reads on a page is marked for translation: the templates are read with
Django's own lexer, and any English left outside {% translate %} / {% blocktranslate %} fails
the build, naming the template and the text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.template.base import Lexer, Token, TokenType

# The autouse fixtures of conftest put seeded rows back, so every test here reaches the database.
pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"

# Templates other people are translating right now; each one leaves this list when it is marked.
STILL_ENGLISH: set[str] = set()

# Attributes whose value a person reads (or hears, with a screen reader).
READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "data-label"}
# Elements whose content is code or a sample, the same in every language.
UNREAD_ELEMENTS = {"script", "style", "code", "pre", "kbd", "samp"}
# Where a marker stands for a Django tag or variable; the spaces keep the HTML around it parsing
# (`<td{% if x %} class="y"{% endif %}>`).
MARKER = " \x00 "
# A word written for people: letters with at least two in lower case (so "PDF", "ID", "C-XXXX"
# and "SHA-256" are not words), not glued to digits, dots or underscores (code, file names).
WORD = re.compile(r"(?<![\w.\-/@#])[A-Za-z]*[a-z]{2,}[A-Za-z']*(?![\w.\-/@])")
# Words that are the same in every language: units and the product's own name.
NOT_LANGUAGE = {"kg", "km", "ms", "oneforone"}
TRANSLATING_BLOCKS = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans"}
SKIPPED_BLOCKS = {"comment": "endcomment", "verbatim": "endverbatim", **TRANSLATING_BLOCKS}
# Literal text handed to another template: {% include "x.html" with label="Save" %}.
LITERAL_ARGUMENT = re.compile(r"""\b\w+=(["'])(.*?)\1""")
LITERAL_FILTER_ARGUMENT = re.compile(r"""\|(default|default_if_none|yesno):(["'])(.*?)\2""")


def human_words(text: str) -> list[str]:
    return [w for w in WORD.findall(text) if w.lower() not in NOT_LANGUAGE]


def skeleton(source: str) -> tuple[str, list[str]]:
    """The template's text with every Django tag, variable and translated passage replaced by a
    marker, plus the English found in literal strings passed through tags and filters."""
    parts: list[str] = []
    literals: list[str] = []
    closing: str | None = None
    for token in Lexer(source).tokenize():
        if closing is not None:
            if token.token_type is TokenType.BLOCK and token.contents.split()[0] == closing:
                closing = None
            continue
        if token.token_type is TokenType.TEXT:
            parts.append(token.contents)
            continue
        parts.append(MARKER)
        literals.extend(_literal_english(token))
        if token.token_type is TokenType.BLOCK:
            closing = SKIPPED_BLOCKS.get(token.contents.split()[0])
    return "".join(parts), literals


def _literal_english(token: Token) -> Iterator[str]:
    if token.token_type is TokenType.VAR:
        for match in LITERAL_FILTER_ARGUMENT.finditer(token.contents):
            if human_words(match.group(3)):
                yield f"{{{{ {token.contents} }}}}"
    elif token.token_type is TokenType.BLOCK and token.contents.split()[0] in {"include", "with"}:
        for match in LITERAL_ARGUMENT.finditer(token.contents):
            if human_words(match.group(2)) and not match.group(2).endswith(".html"):
                yield f"{{% {token.contents} %}}"


class _ReadText(HTMLParser):
    """Collects the text between tags and in read attributes, leaving out what is not language:
    scripts, styles, code samples and anything marked translate="no" (the HTML attribute)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.unread: list[str] = []  # the open elements whose content is not language

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in UNREAD_ELEMENTS or ("translate", "no") in attrs or tag in self.unread[-1:]:
            self.unread.append(tag)
        self.handle_startendtag(tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value and not self.unread:
                self._keep(value)

    def handle_endtag(self, tag: str) -> None:
        if self.unread and self.unread[-1] == tag:
            self.unread.pop()

    def handle_data(self, data: str) -> None:
        if not self.unread:
            self._keep(data)

    def _keep(self, text: str) -> None:
        if human_words(text.replace(MARKER.strip(), " ")):
            self.found.append(" ".join(text.replace(MARKER.strip(), "…").split()))


def untranslated(source: str) -> list[str]:
    """The English a person would read in this template, outside the translation tags."""
    text, literals = skeleton(source)
    reader = _ReadText()
    reader.feed(text)
    reader.close()
    return reader.found + literals


def _still_english(name: str) -> bool:
    return any(name == entry or name.startswith(entry) for entry in STILL_ENGLISH if entry)


def test_every_template_marks_its_text_for_translation() -> None:
    report = {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        if _still_english(name):
            continue
        if found := untranslated(path.read_text()):
            report[name] = found
    assert report == {}, "mark these with {% translate %} / {% blocktranslate %}"


def test_the_allow_list_names_only_templates_that_exist() -> None:
    names = [p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")]
    for entry in STILL_ENGLISH:
        assert any(n == entry or n.startswith(entry) for n in names), entry


def test_an_unmarked_word_is_flagged_and_a_marked_one_is_not() -> None:
    sample = """{% load i18n %}{% extends "base.html" %}
<h1 class="page-title" data-testid="heading">{% translate "Uploads" %}</h1>
<p>{% blocktranslate with n=count %}{{ n }} rows were read{% endblocktranslate %}</p>
<a href="{% url 'x' %}" title="Open the file">{{ upload.name }}</a>
<td>{{ row.code }} · PDF · SHA-256 · C-XXXX · 12 kg</td>
<script>const label = "not for people";</script>
{# a comment #}{% comment %}Nor this.{% endcomment %}
<p>Rows {{ first }}–{{ last }}</p>
<span>{{ when|default:"never" }}</span>
{% include "partners/_pagination.html" with label="Next page" %}
<input placeholder="{% translate 'Search' %}">&nbsp;&middot;
<a class="brand" translate="no">one<span>for</span>one</a> <code>python verify.py</code>
<td{% if wide %} colspan="2"{% endif %} data-label="Status">{% translate "Open" %}</td>
"""
    assert untranslated(sample) == [
        "Open the file",
        "Rows … – …",
        "Status",
        '{{ when|default:"never" }}',
        '{% include "partners/_pagination.html" with label="Next page" %}',
    ]
