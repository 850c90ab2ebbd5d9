"""Regenerate the screenshots in docs/ of the demo report (docs/report.md shows them).

Needs chromium (scripts/install-test-browser.sh). Usage:
    python scripts/report_screenshots.py DEMO_DATA_DIR
"""

from __future__ import annotations

import base64
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import brandlens  # noqa: E402
from brandlens.cli.report_html import render_html  # noqa: E402
from browser import Browser, find_chromium  # noqa: E402

SHOTS = [  # file, viewport width, section to start at, height
    ("report-overview.png", 1280, "overview", 1500),
    ("report-ladder.png", 1280, "ladder.fast.aipl", 900),
    ("report-methodologies.png", 1280, "fast", 1300),
    ("report-phone.png", 390, "overview", 1400),
]


def main(data: str) -> None:
    html = render_html(brandlens.report(data))
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        b = Browser(find_chromium() or sys.exit("chromium not found"))
        try:
            for name, width, section, height in SHOTS:
                b.load(page.as_uri(), width)
                top = b.evaluate(
                    f"document.getElementById('{section}').getBoundingClientRect().top"
                    " + window.scrollY"
                )
                shot = b.page(
                    "Page.captureScreenshot",
                    format="png",
                    captureBeyondViewport=True,
                    clip={"x": 0, "y": top, "width": width, "height": height, "scale": 1},
                )
                (ROOT / "docs" / name).write_bytes(base64.b64decode(shot["data"]))
                print(f"docs/{name}")
        finally:
            b.close()


if __name__ == "__main__":
    main(sys.argv[1])
