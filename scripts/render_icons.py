"""Render the web app's icons (src/onevoice/web/static/icons/) from their two SVG sources.

    .venv/bin/python scripts/render_icons.py

Chromium (Debian's, driven by Playwright as in the browser tests) draws icon.svg and maskable.svg at each size;
favicon.ico holds the 16, 32 and 48 px PNGs (an ICO may carry PNG images: every current browser reads them).
Rerunnable; commit the PNG and ICO files it writes.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from playwright.sync_api import sync_playwright

ICONS = Path(__file__).resolve().parent.parent / "src" / "onevoice" / "web" / "static" / "icons"
CHROMIUM = os.environ.get("ONEVOICE_CHROMIUM", "/usr/bin/chromium")
OUT = {"icon-192.png": ("icon.svg", 192), "icon-512.png": ("icon.svg", 512),
       "maskable-512.png": ("maskable.svg", 512), "apple-touch-icon.png": ("maskable.svg", 180)}
FAVICON_SIZES = (16, 32, 48)


def ico(pngs: list[tuple[int, bytes]]) -> bytes:
    """An .ico file holding PNG images (header, one directory entry per image, then the images)."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(header) + 16 * len(pngs)
    entries, data = b"", b""
    for size, png in pngs:
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(png), offset + len(data))
        data += png
    return header + entries + data


def main() -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])

        def draw(svg: str, size: int) -> bytes:
            page = browser.new_page(viewport={"width": size, "height": size})
            markup = (ICONS / svg).read_text()
            page.set_content("<style>body{margin:0;background:transparent} svg{display:block;width:100%;height:100%}"
                             f'</style><div style="width:{size}px;height:{size}px">{markup}</div>')
            png = page.locator("svg").screenshot(omit_background=True)
            page.close()
            return png

        for name, (svg, size) in OUT.items():
            (ICONS / name).write_bytes(draw(svg, size))
        (ICONS / "favicon.ico").write_bytes(ico([(s, draw("icon.svg", s)) for s in FAVICON_SIZES]))
        browser.close()


if __name__ == "__main__":
    main()
