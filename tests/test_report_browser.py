"""The demo report in a real Chromium, offline: no console error, no request, every chart drawn.

Chromium comes from scripts/install-test-browser.sh (which .ci/run calls). Where it is
missing the test is skipped with that instruction, except under CI, where it fails.
Screenshots at 1280 and 390 px wide are kept under artefacts/report/ (git-ignored;
BRANDLENS_ARTEFACTS moves it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import brandlens
from brandlens.cli.report_html import render_html
from browser import Browser, find_chromium

ARTEFACTS = Path(
    os.environ.get("BRANDLENS_ARTEFACTS", Path(__file__).resolve().parents[1] / "artefacts")
)
SIZES = """JSON.stringify([...document.querySelectorAll('figure.chart')].map(f => {
  const r = f.querySelector('svg').getBoundingClientRect();
  return [f.dataset.chartId, r.width, r.height, f.querySelector('svg').childElementCount];
}))"""


@pytest.fixture(scope="module")
def browser():
    binary = find_chromium()
    if binary is None:
        message = "chromium not found: run scripts/install-test-browser.sh to run the browser test"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    b = Browser(binary)
    yield b
    b.close()


@pytest.fixture(scope="module")
def report_file(market, tmp_path_factory):
    report = brandlens.report(market)
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    return path, report


@pytest.mark.parametrize("width", [1280, 390])
def test_the_report_renders_offline_in_chromium(browser, report_file, width):
    import json

    path, report = report_file
    browser.load(path.as_uri(), width)
    assert browser.problems() == []
    drawn = {cid: (w, h, n) for cid, w, h, n in json.loads(browser.evaluate(SIZES))}
    expected = [c.id for s in report.sections for c in s.charts]
    assert sorted(drawn) == sorted(expected)
    for cid, (w, h, n) in drawn.items():
        assert w > 0 and h > 0 and n > 0, cid
    # readable at phone width: nothing wider than the screen but the scrollable tables
    assert browser.evaluate("document.documentElement.scrollWidth") <= width
    ARTEFACTS.joinpath("report").mkdir(parents=True, exist_ok=True)
    shot = ARTEFACTS / "report" / f"demo-report-{width}.png"
    browser.screenshot(shot, width)
    assert shot.stat().st_size > 10_000
