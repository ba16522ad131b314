"""Debian's headless Chromium renders a report page to a PNG, and a small PNG reader (the standard library's zlib and
the PNG specification's five filters) counts what was drawn: enough to see that a page shows its charts without
adding an imaging library for it."""
from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
import zlib
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser")
WHY_MISSING = ("chromium is not installed and could not be: `make tools` installs Debian's chromium "
               "(apt-get install chromium) when run as root with apt-get")


def chromium() -> str | None:
    """The headless browser's path, or None."""
    return next((p for p in map(shutil.which, CANDIDATES) if p), None)


def screenshot(page: Path, png: Path, size: tuple[int, int] = (1200, 900), timeout: float = 120) -> Path:
    """`page` as Chromium draws it in a window of `size`, written to `png` (no network: the page is a file)."""
    browser = chromium()
    if browser is None:
        raise FileNotFoundError(WHY_MISSING)
    png.unlink(missing_ok=True)
    # A profile of its own: two browsers on one profile (two xdist workers) wait on each other's lock.
    with tempfile.TemporaryDirectory(prefix="oncallgen-chromium-") as profile:
        result = subprocess.run([browser, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
                                 "--force-device-scale-factor=1", f"--user-data-dir={profile}", "--no-first-run",
                                 f"--screenshot={png}", f"--window-size={size[0]},{size[1]}", page.resolve().as_uri()],
                                capture_output=True, text=True, timeout=timeout)
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot (exit {result.returncode}): {result.stderr[-2000:]}")
    return png


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def read_png(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB bytes) of an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat = 8, []
    width = height = depth = colour = interlace = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xFF
        elif kind == 2:
            line = bytearray((x + p) & 0xFF for x, p in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                line[i] = (line[i] + ((line[i - channels] if i >= channels else 0) + prev[i]) // 2) & 0xFF
        elif kind == 4:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                upper_left = prev[i - channels] if i >= channels else 0
                line[i] = (line[i] + _paeth(left, prev[i], upper_left)) & 0xFF
        rows.append(bytes(line) if channels == 3 else bytes(b for i, b in enumerate(line) if i % 4 != 3))
        prev = line
    return width, height, rows


def histogram(rows: list[bytes]) -> Counter[bytes]:
    """How many pixels of each colour (3 bytes: red, green, blue)."""
    return Counter(row[i:i + 3] for row in rows for i in range(0, len(row), 3))


def count(pixels: Counter[bytes], colour: str, tolerance: int = 0) -> int:
    """Pixels within `tolerance` of `colour` (`#rrggbb`) on each channel."""
    want = bytes.fromhex(colour.lstrip("#"))
    return sum(n for c, n in pixels.items() if all(abs(c[k] - want[k]) <= tolerance for k in range(3)))


class Page(HTMLParser):
    """A page's elements as html.parser reads them: each start tag with its attributes and the `data-chart` of the
    chart it is in, and each element's text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str], str | None]] = []
        self.texts: list[tuple[str, str]] = []        # (tag, text) of every element's own text
        self._open: list[tuple[str, str | None]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        chart = values.get("data-chart", self._open[-1][1] if self._open else None)
        self.elements.append((tag, values, chart))
        if tag not in VOID:
            self._open.append((tag, chart))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.elements.append((tag, values, values.get("data-chart", self._open[-1][1] if self._open else None)))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        self.texts.append((self._open[-1][0] if self._open else "", data))

    def rects(self, chart: str, **having: str) -> list[dict[str, str]]:
        """The attributes of the chart's rectangles that have each attribute of `having` (data_count: data-count)."""
        want = {k.replace("_", "-"): v for k, v in having.items()}
        return [a for tag, a, c in self.elements if tag == "rect" and c == chart
                and all(k in a and (v is None or a[k] == v) for k, v in want.items())]

    def cells(self) -> list[str]:
        return [t for tag, t in self.texts if tag in ("td", "code") and t.strip()]


VOID = {"meta", "br", "img", "input", "link", "hr"}   # never closed; an SVG shape is closed or ends in />
