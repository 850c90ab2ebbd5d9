"""Regenerate the generated sections of the docs.

Every docs/methodologies/<name>.md page has its spec-derived section between
<!-- spec:begin --> and <!-- spec:end -->; docs/specs.md has the reference of every
property kind, written from the checkers, between <!-- checks:begin --> and
<!-- checks:end -->. Everything else is prose written by hand. tests/test_docs.py
fails when a section is out of date, so run this after editing a spec or a checker.
"""

from __future__ import annotations

import re
from pathlib import Path

from brandlens.specs.checks import checks_markdown
from brandlens.specs.spec import load_spec, spec_markdown

ROOT = Path(__file__).resolve().parents[1]
MARKERS = re.compile(r"(<!-- spec:begin -->\n).*?(<!-- spec:end -->)", re.S)
CHECKS = re.compile(r"(<!-- checks:begin -->\n).*?(<!-- checks:end -->)", re.S)


def main() -> None:
    for spec_file in sorted((ROOT / "specs").glob("*.yaml")):
        page = ROOT / "docs" / "methodologies" / f"{spec_file.stem}.md"
        if not page.exists():
            continue
        section = spec_markdown(load_spec(spec_file))
        text = page.read_text(encoding="utf-8")
        page.write_text(MARKERS.sub(lambda m, s=section: m[1] + s + m[2], text), encoding="utf-8")
        print(f"updated {page.relative_to(ROOT)}")
    page = ROOT / "docs" / "specs.md"
    text = page.read_text(encoding="utf-8")
    section = checks_markdown()
    page.write_text(CHECKS.sub(lambda m: m[1] + section + m[2], text), encoding="utf-8")
    print(f"updated {page.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
