"""QR codes for printed packaging and certificates (segno: pure Python, no system libraries)."""

from __future__ import annotations

import io

import segno


def qr_svg(data: str, *, scale: int = 4) -> str:
    buffer = io.BytesIO()
    segno.make(data, error="m").save(
        buffer,
        kind="svg",
        scale=scale,
        border=2,
        xmldecl=False,
        svgns=True,
        title="QR code for " + data,
    )
    return buffer.getvalue().decode()


def qr_png(data: str, *, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    segno.make(data, error="m").save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()
