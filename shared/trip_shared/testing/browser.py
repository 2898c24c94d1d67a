"""Looking at pages as people do: Debian's Chromium, headless, at a phone's width and a desktop's. Nothing may be
wider than the screen (no sideways scrolling, no input or table cut off), and screenshots are kept for a person to
look at (SCREENSHOT_DIR, else the test's temporary folder)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

WIDTHS = {"phone": 390, "desktop": 1280}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As the machine's notes say: without these, Chromium's background connections fail on a closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
OVERFLOW_CHECK = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && (r.right > width + 1 || r.left < -1); })
    .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' ' + Math.round(
      e.getBoundingClientRect().right));
  return {scrollWidth: document.documentElement.scrollWidth, width, wide};
}"""


def screenshot_dir(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def assert_fits(page, folder: Path, name: str) -> None:
    """The page at a phone's width and a desktop's: screenshots kept, nothing wider than the screen. Leaves the
    page at the phone's width."""
    for device, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{device}.png"), full_page=True)
        layout = page.evaluate(OVERFLOW_CHECK)
        assert layout["scrollWidth"] <= layout["width"] and layout["wide"] == [], (name, layout)
    page.set_viewport_size({"width": WIDTHS["phone"], "height": 900})
