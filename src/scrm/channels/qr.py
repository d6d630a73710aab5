"""QR images of channel codes (segno, pure Python): PNG and SVG, with a colour label.

The image encodes the contact way's QR link as WeCom returned it (`qr_code`). The colour (seed 000:
"线下海报用蓝标、线上直播间用红标", blue for posters, red for live rooms) paints the modules and, in
SVG, a band under the code carrying the label text; PNG has no text (segno draws no fonts).
"""

from __future__ import annotations

import html
import io
import re

import segno

from scrm.core.errors import ValidationFailed

COLOURS = {
    "black": "#000000",
    "blue": "#1677ff",
    "red": "#f5222d",
    "green": "#389e0d",
    "orange": "#d46b08",
    "purple": "#531dab",
}
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
BORDER = 2
LABEL_HEIGHT_MODULES = 6


def colour_value(colour: str | None) -> str:
    """A named colour (black, blue, red, green, orange, purple) or #RRGGBB; raises ValidationFailed."""
    if not colour:
        return COLOURS["black"]
    value = COLOURS.get(colour.lower(), colour)
    if not _HEX.match(value):
        raise ValidationFailed(
            "unknown colour",
            field_errors=[{"field": "color", "message": "one of " + ", ".join(COLOURS) + ", or #RRGGBB"}],
        )
    return value


def png(content: str, *, colour: str | None = None, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    segno.make(content, error="m").save(
        buffer, kind="png", scale=scale, border=BORDER, dark=colour_value(colour), light="#ffffff"
    )
    return buffer.getvalue()


def svg(content: str, *, colour: str | None = None, label: str | None = None, scale: int = 8) -> bytes:
    dark = colour_value(colour)
    qr = segno.make(content, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=scale, border=BORDER, dark=dark, light="#ffffff", xmldecl=False)
    inner = buffer.getvalue().decode()
    if not label:
        return inner.encode()
    width, height = qr.symbol_size(scale=scale, border=BORDER)
    band = LABEL_HEIGHT_MODULES * scale
    font = max(10, int(band * 0.55))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + band}" '
        f'viewBox="0 0 {width} {height + band}">{inner}'
        f'<rect x="0" y="{height}" width="{width}" height="{band}" fill="{dark}"/>'
        f'<text x="{width / 2}" y="{height + band / 2}" fill="#ffffff" font-size="{font}" '
        'font-family="sans-serif" text-anchor="middle" dominant-baseline="central">'
        f"{html.escape(label)}</text>"
        "</svg>"
    ).encode()
