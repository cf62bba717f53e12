"""Files for the demo data: a screenshot-like PNG and a device log, made here (no binary assets shipped).

The PNG is drawn from rectangles (window, title bar, sidebar, lines of "text", an error banner) and
encoded with zlib: an RGB image, one filter byte per row, as the PNG specification lays out.
"""

from __future__ import annotations

import random
import struct
import zlib
from datetime import datetime, timedelta

Color = tuple[int, int, int]

WIDTH, HEIGHT = 480, 300
_DESKTOP: Color = (222, 226, 232)
_WINDOW: Color = (255, 255, 255)
_TITLE: Color = (40, 86, 160)
_SIDEBAR: Color = (242, 244, 247)
_TEXT: Color = (90, 96, 108)
_ERROR: Color = (200, 54, 54)
_ERROR_BG: Color = (253, 236, 236)
_BUTTON: Color = (40, 120, 200)


class _Canvas:
    def __init__(self, width: int, height: int, background: Color) -> None:
        self.width, self.height = width, height
        self.rows = [bytearray(bytes(background) * width) for _ in range(height)]

    def fill(self, x: int, y: int, w: int, h: int, color: Color) -> None:
        x0, x1 = max(0, x), min(self.width, x + w)
        if x1 <= x0:
            return
        run = bytes(color) * (x1 - x0)
        for row in self.rows[max(0, y): min(self.height, y + h)]:
            row[x0 * 3: x1 * 3] = run

    def png(self) -> bytes:
        raw = b"".join(b"\x00" + bytes(row) for row in self.rows)
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)  # 8-bit RGB
        return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 6)) + \
            _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def screenshot_png(variant: int) -> bytes:
    """An app window with an error banner; `variant` changes the layout so files differ."""
    rng = random.Random(variant)
    canvas = _Canvas(WIDTH, HEIGHT, _DESKTOP)
    canvas.fill(20, 16, 440, 268, _WINDOW)
    canvas.fill(20, 16, 440, 24, _TITLE)
    for i, color in enumerate(((237, 106, 94), (245, 191, 79), (98, 197, 84))):
        canvas.fill(30 + i * 14, 24, 8, 8, color)
    canvas.fill(20, 40, 110, 244, _SIDEBAR)
    for i in range(6):
        canvas.fill(32, 56 + i * 22, rng.randint(50, 85), 7, _TEXT if i != 2 else _BUTTON)
    canvas.fill(146, 54, 298, 34, _ERROR_BG)
    canvas.fill(146, 54, 4, 34, _ERROR)
    canvas.fill(160, 62, rng.randint(140, 230), 7, _ERROR)
    canvas.fill(160, 75, rng.randint(90, 180), 5, _TEXT)
    for i in range(7):
        canvas.fill(146, 104 + i * 18, rng.randint(120, 290), 6, _TEXT)
    canvas.fill(364, 246, 80, 24, _BUTTON)
    return canvas.png()


def device_log(device: str, start: datetime, lines: int = 40, seed: int = 0) -> bytes:
    """A hub's sync log ending in the failure the customer reports."""
    rng = random.Random(seed)
    out = []
    when = start
    for i in range(lines):
        when += timedelta(seconds=rng.randint(5, 90))
        stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        if i >= lines - 4:
            out.append(f"{stamp} ERROR {device} sync failed: upstream timeout after 30s (attempt {i - lines + 5}/4)")
        elif rng.random() < 0.15:
            out.append(f"{stamp} WARN  {device} wifi signal weak: rssi=-{rng.randint(71, 84)} dBm")
        else:
            out.append(f"{stamp} INFO  {device} reading uploaded: {rng.uniform(17.5, 23.5):.1f} C, "
                       f"battery {rng.randint(40, 99)}%")
    return ("\n".join(out) + "\n").encode()
