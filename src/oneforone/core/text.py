"""Wording shared by the pages: an action's refusal shown as a sentence."""

from __future__ import annotations

from django.utils.text import capfirst


def as_sentence(error: Exception | str) -> str:
    """The refusal with a capital first letter and one closing full stop ("a typing error?"
    ends its own sentence and gets none)."""
    text = capfirst(str(error).strip())
    return text if text.endswith((".", "?", "!")) else f"{text}."
