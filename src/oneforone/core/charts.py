"""Small SVG charts drawn on the server, so pages and PDFs show the same picture without JS."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#166534", "#65a30d", "#ca8a04", "#0e7490", "#9ca3af"]


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    color: str = PALETTE[0]


def horizontal_bars(bars: Sequence[Bar], *, title: str, unit: str = "") -> SafeString:
    width, label_w, row_h = 480, 150, 30
    height = row_h * len(bars) + 10
    top = max((b.value for b in bars), default=0) or 1
    rows = []
    for i, bar in enumerate(bars):
        y = 5 + i * row_h
        w = (width - label_w - 120) * bar.value / top
        rows.append(
            f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end">{escape(bar.label)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 10}" rx="3" '
            f'fill="{bar.color}"><title>{escape(bar.label)}: {bar.value:,.0f}{unit}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 19}">{bar.value:,.0f}{escape(unit)}</text>'
        )
    return _svg(width, height, title, "".join(rows))


@dataclass(frozen=True)
class StackedRow:
    label: str
    values: Sequence[float]
    note: str = ""


def stacked_bars(
    rows: Sequence[StackedRow], series: Sequence[tuple[str, str]], *, title: str
) -> SafeString:
    """One horizontal bar per row, split into its series (name, colour), with a legend and a note
    after each bar; e.g. units allocated and units waiting per partner, on one scale. Narrower
    than the other charts, so that its text stays readable on a phone."""
    width, label_w, row_h, legend_h, note_w = 420, 145, 30, 24, 110
    height = legend_h + row_h * len(rows) + 6
    top = max((sum(r.values) for r in rows), default=0) or 1
    parts = []
    for s, (name, color) in enumerate(series):
        key_x = label_w + s * 125
        parts.append(
            f'<rect x="{key_x}" y="5" width="12" height="12" fill="{color}"/>'
            f'<text x="{key_x + 16}" y="15">{escape(name)}</text>'
        )
    for i, row in enumerate(rows):
        y = legend_h + i * row_h
        label = row.label if len(row.label) <= 18 else row.label[:17] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end">{escape(label)}'
            f"<title>{escape(row.label)}</title></text>"
        )
        x = float(label_w)
        for value, (name, color) in zip(row.values, series, strict=True):
            w = (width - label_w - note_w) * value / top
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_h - 10}" '
                f'fill="{color}"><title>{escape(row.label)} {escape(name)}: {value:,.0f}'
                "</title></rect>"
            )
            x += w
        if row.note:
            parts.append(f'<text x="{x + 6:.1f}" y="{y + 19}">{escape(row.note)}</text>')
    return _svg(width, height, title, "".join(parts))


def grouped_columns(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *, title: str
) -> SafeString:
    """Columns per label, one per series, with a legend; e.g. registered vs compensated by month."""
    width, height, left, bottom, top_pad = 480, 220, 72, 36, 28
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    peak = max((v for _, values in series for v in values), default=0) or 1
    group_w = plot_w / max(len(labels), 1)
    col_w = group_w * 0.8 / max(len(series), 1)
    parts = [
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 10}" y2="{top_pad + plot_h}" '
        'stroke="#9ca3af"/>',
        f'<text x="{left - 6}" y="{top_pad + 4}" text-anchor="end">{peak:,.0f}</text>',
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end">0</text>',
    ]
    for g, label in enumerate(labels):
        x0 = left + g * group_w + group_w * 0.1
        for s, (name, values) in enumerate(series):
            h = plot_h * values[g] / peak
            parts.append(
                f'<rect x="{x0 + s * col_w:.1f}" y="{top_pad + plot_h - h:.1f}" width="{col_w:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[s % len(PALETTE)]}">'
                f"<title>{escape(label)} {escape(name)}: {values[g]:,.0f}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + group_w * 0.4:.1f}" y="{height - bottom + 16}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    for s, (name, _) in enumerate(series):
        x = left + s * 170
        parts.append(
            f'<rect x="{x}" y="4" width="12" height="12" fill="{PALETTE[s % len(PALETTE)]}"/>'
            f'<text x="{x + 16}" y="15">{escape(name)}</text>'
        )
    return _svg(width, height, title, "".join(parts))


def _svg(width: int, height: int, title: str, body: str) -> SafeString:
    return mark_safe(  # noqa: S308 - every interpolated text above is escaped
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'font-family="system-ui, sans-serif" font-size="13" fill="#1f2937">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )
