"""Text for fpdf2's core fonts (Helvetica, Courier), which cover Latin-1: that holds the accented
letters of Dutch and French (é, è, ë, ê, ç, à, ï, ô, û, « »). The few signs these languages use
outside it are written with their nearest Latin-1 form instead of a question mark."""

from __future__ import annotations

SUBSTITUTES = str.maketrans(
    {
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u0153": "oe",
        "\u0152": "OE",
        "\u20ac": "EUR",
        "\u2192": "->",
        "\u2082": "2",
        "\u202f": "\u00a0",  # French digit grouping: a narrow no-break space
        "\u2009": " ",
    }
)


def latin1(value: object) -> str:
    """The text as the core fonts can draw it; anything else left is replaced, never dropped."""
    return str(value).translate(SUBSTITUTES).encode("latin-1", "replace").decode("latin-1")
