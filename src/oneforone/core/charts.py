"""Small SVG charts drawn on the server, so pages and PDFs show the same picture without JS."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#166534", "#65a30d", "#ca8a04", "#0e7490", "#9ca3af"]


def _grouped(value: float) -> str:
    """A whole number with the active language's thousands separator: 1,234 · 1.234 · 1 234."""
    return number_format(round(value), force_grouping=True)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    color: str = PALETTE[0]


def horizontal_bars(
    bars: Sequence[Bar],
    *,
    title: str,
    unit: str = "",
    desc: str = "",
    width: int = 480,
    label_w: int = 150,
) -> SafeString:
    """One bar per row on one scale; a narrower `width` keeps the text readable on a phone."""
    row_h = 30
    height = row_h * len(bars) + 10
    top = max((b.value for b in bars), default=0) or 1
    rows = []
    for i, bar in enumerate(bars):
        y = 5 + i * row_h
        w = (width - label_w - 120) * bar.value / top
        rows.append(
            f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end">{escape(bar.label)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 10}" rx="3" '
            f'fill="{bar.color}"><title>{escape(bar.label)}: {_grouped(bar.value)}{unit}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 19}">{_grouped(bar.value)}{escape(unit)}</text>'
        )
    return _svg(width, height, title, "".join(rows), desc=desc)


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
                f'fill="{color}"><title>{escape(row.label)} {escape(name)}: {_grouped(value)}'
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
        f'<text x="{left - 6}" y="{top_pad + 4}" text-anchor="end">{_grouped(peak)}</text>',
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end">0</text>',
    ]
    for g, label in enumerate(labels):
        x0 = left + g * group_w + group_w * 0.1
        for s, (name, values) in enumerate(series):
            h = plot_h * values[g] / peak
            parts.append(
                f'<rect x="{x0 + s * col_w:.1f}" y="{top_pad + plot_h - h:.1f}" width="{col_w:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[s % len(PALETTE)]}">'
                f"<title>{escape(label)} {escape(name)}: {_grouped(values[g])}</title></rect>"
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


def _every(count: int, room: int) -> int:
    """Label every n-th category so that at most `room` labels share the axis."""
    return max(1, -(-count // max(room, 1)))


def _axis(
    *, left: int, top: int, plot_w: int, plot_h: int, peak: float, x_label: str, y_label: str
) -> list[str]:
    """The value axis (0, half and the peak, with faint grid lines) and both axis titles."""
    parts = []
    for fraction in (0.0, 0.5, 1.0):
        y = top + plot_h - plot_h * fraction
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
            f'stroke="{"#9ca3af" if fraction == 0 else "#e5e7eb"}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_grouped(peak * fraction)}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h + 40}" text-anchor="middle" '
        f'font-size="12" fill="#4b5563">{escape(x_label)}</text>'
        f'<text transform="translate(13 {top + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle" '
        f'font-size="12" fill="#4b5563">{escape(y_label)}</text>'
    )
    return parts


def _legend(series: Sequence[tuple[str, str]], *, left: int, width: int) -> tuple[list[str], int]:
    """Legend keys laid out in rows that fit the chart's width; returns the parts and height."""
    parts, x, y = [], left, 4
    for name, color in series:
        key_w = 28 + 8 * len(name)
        if x + key_w > width and x > left:
            x, y = left, y + 18
        parts.append(
            f'<rect x="{x}" y="{y}" width="12" height="12" fill="{color}"/>'
            f'<text x="{x + 16}" y="{y + 11}">{escape(name)}</text>'
        )
        x += key_w
    return parts, y + 22


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    desc: str,
    x_label: str,
    y_label: str,
    area: int | None = None,
) -> SafeString:
    """One line per series over ordered categories (months); the series at index `area`, if any,
    is filled down to zero. Narrow enough (420) that its text stays readable on a phone."""
    width, left, right, bottom = 420, 62, 12, 48
    colors = [PALETTE[s % len(PALETTE)] for s in range(len(series))]
    legend, top = _legend(
        [(name, colors[s]) for s, (name, _) in enumerate(series)], left=left, width=width
    )
    top += 8
    plot_w, plot_h = width - left - right, 170
    height = top + plot_h + bottom
    peak = max((v for _, values in series for v in values), default=0) or 1
    step = plot_w / max(len(labels) - 1, 1)
    parts = legend + _axis(
        left=left,
        top=top,
        plot_w=plot_w,
        plot_h=plot_h,
        peak=peak,
        x_label=x_label,
        y_label=y_label,
    )

    def point(i: int, value: float) -> str:
        x = left + (i * step if len(labels) > 1 else plot_w / 2)
        return f"{x:.1f},{top + plot_h - plot_h * value / peak:.1f}"

    for s, (name, values) in enumerate(series):
        points = " ".join(point(i, v) for i, v in enumerate(values))
        if s == area and values:
            first, last = point(0, 0), point(len(values) - 1, 0)
            parts.append(
                f'<polygon points="{first} {points} {last}" fill="{colors[s]}" '
                'fill-opacity="0.15" stroke="none"/>'
            )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colors[s]}" stroke-width="2.5">'
            f"<title>{escape(name)}</title></polyline>"
        )
        for i, value in enumerate(values):
            x, y = point(i, value).split(",")
            parts.append(
                f'<circle cx="{x}" cy="{y}" r="3" fill="{colors[s]}"><title>{escape(labels[i])} '
                f"{escape(name)}: {_grouped(value)}</title></circle>"
            )
    every = _every(len(labels), 6)
    for i, label in enumerate(labels):
        if i % every == 0 or (i == len(labels) - 1 and len(labels) <= 6):
            x = point(i, 0).split(",")[0]
            parts.append(
                f'<text x="{x}" y="{top + plot_h + 18}" text-anchor="middle">{escape(label)}</text>'
            )
    return _svg(width, height, title, "".join(parts), desc=desc)


def stacked_columns(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    desc: str,
    x_label: str,
    y_label: str,
) -> SafeString:
    """One column per category (month), split into its series (e.g. origin countries)."""
    width, left, right, bottom = 420, 62, 12, 48
    colors = [PALETTE[s % len(PALETTE)] for s in range(len(series))]
    legend, top = _legend(
        [(name, colors[s]) for s, (name, _) in enumerate(series)], left=left, width=width
    )
    top += 8
    plot_w, plot_h = width - left - right, 170
    height = top + plot_h + bottom
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    peak = max(totals, default=0) or 1
    slot = plot_w / max(len(labels), 1)
    parts = legend + _axis(
        left=left,
        top=top,
        plot_w=plot_w,
        plot_h=plot_h,
        peak=peak,
        x_label=x_label,
        y_label=y_label,
    )
    every = _every(len(labels), 6)
    for i, label in enumerate(labels):
        x = left + i * slot + slot * 0.15
        y = float(top + plot_h)
        for s, (name, values) in enumerate(series):
            h = plot_h * values[i] / peak
            if h <= 0:
                continue
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                f'fill="{colors[s]}"><title>{escape(label)} {escape(name)}: {_grouped(values[i])}'
                "</title></rect>"
            )
        if i % every == 0:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{top + plot_h + 18}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    return _svg(width, height, title, "".join(parts), desc=desc)


def _svg(width: int, height: int, title: str, body: str, *, desc: str = "") -> SafeString:
    described = f"<desc>{escape(desc)}</desc>" if desc else ""
    return mark_safe(  # noqa: S308 - every interpolated text above is escaped
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'font-family="system-ui, sans-serif" font-size="13" fill="#1f2937">'
        f"<title>{escape(title)}</title>{described}{body}</svg>"
    )


# --- the operator's overview (issue 7) -----------------------------------------------------------


def total_against_parts(
    total: Bar, label: str, parts: Sequence[Bar], *, title: str, unit: str = ""
) -> SafeString:
    """Two bars on one scale: a total (e.g. units owed and not yet allocated) and a bar split
    into its parts (e.g. phones by stage of the pipeline), with a legend of one line per part
    under them, so that it stays readable at a phone's width."""
    width, label_w, row_h, note_w = 420, 110, 34, 70
    top = max(total.value, sum(p.value for p in parts)) or 1
    scale = (width - label_w - note_w) / top
    parts_total = sum(p.value for p in parts)
    body = [
        f'<text x="{label_w - 8}" y="23" text-anchor="end">{escape(total.label)}</text>',
        f'<rect x="{label_w}" y="8" width="{total.value * scale:.1f}" height="{row_h - 12}" '
        f'fill="{total.color}"><title>{escape(total.label)}: {_grouped(total.value)}{escape(unit)}'
        "</title></rect>",
        f'<text x="{label_w + total.value * scale + 6:.1f}" y="23">{_grouped(total.value)}</text>',
        f'<text x="{label_w - 8}" y="{row_h + 23}" text-anchor="end">{escape(label)}</text>',
    ]
    x = float(label_w)
    for part in parts:
        w = part.value * scale
        body.append(
            f'<rect x="{x:.1f}" y="{row_h + 8}" width="{w:.1f}" height="{row_h - 12}" '
            f'fill="{part.color}"><title>{escape(part.label)}: {_grouped(part.value)}{escape(unit)}'
            "</title></rect>"
        )
        x += w
    body.append(f'<text x="{x + 6:.1f}" y="{row_h + 23}">{_grouped(parts_total)}</text>')
    legend_top = 2 * row_h + 10
    for i, part in enumerate(parts):
        y = legend_top + i * 20
        body.append(
            f'<rect x="{label_w}" y="{y}" width="12" height="12" fill="{part.color}"/>'
            f'<text x="{label_w + 18}" y="{y + 11}">{escape(part.label)}: '
            f"{_grouped(part.value)}{escape(unit)}</text>"
        )
    return _svg(width, legend_top + 20 * len(parts) + 4, title, "".join(body))


def line_series(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *, title: str
) -> SafeString:
    """One line per series over the labels (e.g. phones bought per week, one line per country),
    each point with its value as a tooltip; the first, middle and last labels are written under
    the axis, and the legend wraps two to a line."""
    width, left, right, top_pad, bottom = 420, 56, 14, 10, 30
    legend_rows = (len(series) + 1) // 2
    plot_h = 170
    plot_w = width - left - right
    legend_top = top_pad + plot_h + bottom
    height = legend_top + legend_rows * 20 + 4
    peak = max((v for _, values in series for v in values), default=0) or 1
    step = plot_w / max(len(labels) - 1, 1)

    def at(i: int, value: float) -> tuple[float, float]:
        return left + i * step, top_pad + plot_h - plot_h * value / peak

    parts = [
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - right}" y2="{top_pad + plot_h}" '
        'stroke="#9ca3af"/>',
        f'<text x="{left - 6}" y="{top_pad + 10}" text-anchor="end">{_grouped(peak)}</text>',
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end">0</text>',
    ]
    shown = sorted({0, (len(labels) - 1) // 2, len(labels) - 1}) if labels else []
    for i in shown:
        anchor = "start" if i == 0 else "end" if i == len(labels) - 1 else "middle"
        parts.append(
            f'<text x="{left + i * step:.1f}" y="{top_pad + plot_h + 18}" '
            f'text-anchor="{anchor}">{escape(labels[i])}</text>'
        )
    for s, (name, values) in enumerate(series):
        color = PALETTE[s % len(PALETTE)]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (at(i, v) for i, v in enumerate(values)))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
        for i, value in enumerate(values):
            x, y = at(i, value)
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">'
                f"<title>{escape(name)}, {escape(labels[i])}: {_grouped(value)}</title></circle>"
            )
        lx = left + (s % 2) * 180
        ly = legend_top + (s // 2) * 20
        parts.append(
            f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{color}"/>'
            f'<text x="{lx + 16}" y="{ly + 11}">{escape(name)}</text>'
        )
    return _svg(width, height, title, "".join(parts))
