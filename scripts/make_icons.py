#!/usr/bin/env python3
"""Draws the app's icons (web/icons/icon-192.png, icon-512.png, and a
maskable 512 with room around the mark): a note on a disc in the page's
colours. Pure Python (zlib), so the committed PNGs can be made again
byte for byte:

    python3 scripts/make_icons.py
"""
import math
import os
import struct
import zlib

OUT = os.path.join(os.path.dirname(__file__), "..", "web", "icons")
BACKGROUND = (33, 37, 41)        # the page's dark text colour
DISC = (111, 66, 193)            # Bootstrap's purple
NOTE = (255, 255, 255)


def png(size, pixels):
    rows = b"".join(b"\x00" + bytes(v for px in pixels[y * size:(y + 1) * size] for v in px) for y in range(size))
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def coverage(inside, x, y):
    """Share of a pixel's 4x4 samples inside a shape (smooth edges)."""
    return sum(inside(x + (i + 0.5) / 4, y + (j + 0.5) / 4) for i in range(4) for j in range(4)) / 16


def icon(size, mark_scale):
    c = size / 2
    r = size / 2 * mark_scale

    def disc(x, y):
        return (x - c) ** 2 + (y - c) ** 2 <= r * r

    def note(x, y):
        # A head (a tilted ellipse) low left, a stem up its right side, a flag.
        hx, hy = c - 0.18 * r, c + 0.32 * r
        dx, dy = x - hx, y - hy
        a = math.radians(-20)
        u, v = dx * math.cos(a) - dy * math.sin(a), dx * math.sin(a) + dy * math.cos(a)
        head = (u / (0.24 * r)) ** 2 + (v / (0.17 * r)) ** 2 <= 1
        stem = hx + 0.16 * r <= x <= hx + 0.24 * r and c - 0.52 * r <= y <= hy
        flag = hx + 0.16 * r <= x <= hx + 0.5 * r and c - 0.52 * r <= y <= c - 0.52 * r + 0.16 * r + (x - hx - 0.16 * r) * 0.6
        return head or stem or flag

    pixels = []
    for y in range(size):
        for x in range(size):
            d, n = coverage(disc, x, y), coverage(note, x, y)
            base = [BACKGROUND[k] + (DISC[k] - BACKGROUND[k]) * d for k in range(3)]
            pixels.append(tuple(round(base[k] + (NOTE[k] - base[k]) * n) for k in range(3)))
    return png(size, pixels)


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, size, scale in [("icon-192.png", 192, 0.92), ("icon-512.png", 512, 0.92), ("icon-maskable-512.png", 512, 0.72)]:
        with open(os.path.join(OUT, name), "wb") as handle:
            handle.write(icon(size, scale))
        print("wrote", os.path.join(OUT, name))


if __name__ == "__main__":
    main()
