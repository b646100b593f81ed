"""Small PNG images from pixel colours, for pictures inside a page (standard library only).

>>> data = png(2, 1, [(255, 0, 0, 255), (0, 0, 255, 128)])
>>> data[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
>>> data_uri(data).startswith("data:image/png;base64,")
True
"""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Sequence, Tuple, Union

RGBA = Tuple[int, int, int, int]
RGB = Tuple[int, int, int]


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png(width: int, height: int, pixels: Sequence[Union[RGBA, RGB]]) -> bytes:
    """A PNG of ``width`` × ``height`` pixels (all RGBA, or all RGB), given row by row from the top left.

    Raises:
        ValueError: the number of pixels is not ``width * height``.
    """
    if len(pixels) != width * height or width < 1 or height < 1:
        raise ValueError(f"png: {len(pixels)} pixels for a {width} x {height} image")
    channels = len(pixels[0])
    flat = b"".join(map(bytes, pixels))
    if len(flat) != channels * width * height or channels not in (3, 4):
        raise ValueError("png: every pixel must be (r, g, b) or every pixel (r, g, b, a)")
    stride = channels * width
    rows = b"".join(b"\x00" + flat[y * stride:(y + 1) * stride] for y in range(height))  # no filter
    header = struct.pack(">IIBBBBB", width, height, 8, 6 if channels == 4 else 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows, 9)) + _chunk(
        b"IEND", b"")


def data_uri(data: bytes) -> str:
    """A PNG as a ``data:`` URI that an ``<img>`` or SVG ``<image>`` shows without any request."""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")
