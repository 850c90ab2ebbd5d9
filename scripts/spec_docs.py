"""Regenerate the spec-derived section of every docs/methodologies/<name>.md page.

The section sits between <!-- spec:begin --> and <!-- spec:end -->; everything
else on the page is prose written by hand. tests/test_docs.py fails when a page
is out of date, so run this after editing a spec.
"""

from __future__ import annotations

import re
from pathlib import Path

from brandlens.specs.spec import load_spec, spec_markdown

ROOT = Path(__file__).resolve().parents[1]
MARKERS = re.compile(r"(<!-- spec:begin -->\n).*?(<!-- spec:end -->)", re.S)


def main() -> None:
    for spec_file in sorted((ROOT / "specs").glob("*.yaml")):
        page = ROOT / "docs" / "methodologies" / f"{spec_file.stem}.md"
        if not page.exists():
            continue
        section = spec_markdown(load_spec(spec_file))
        text = page.read_text(encoding="utf-8")
        page.write_text(MARKERS.sub(lambda m, s=section: m[1] + s + m[2], text), encoding="utf-8")
        print(f"updated {page.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
