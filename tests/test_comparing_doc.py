"""docs/comparing.md says everything on it is real output of the demo market: it is.

Each terminal block with a `$ brandlens ...` line is that command's standard output
(a block may show part of it) at 100 columns; a block without one is part of
`brandlens compare data/`. The Python snippet's agreement reading is checked too.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from brandlens.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "comparing.md"


def _blocks() -> list[str]:
    """The fenced blocks without a language (terminal output), in order."""
    blocks: list[str] = []
    lang: str | None = None  # None: outside a fence
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            if lang is None:
                lang, body = line[3:].strip(), []
                continue
            if lang == "":
                blocks.append("\n".join(body))
            lang = None
        elif lang is not None:
            body.append(line)
    return blocks


def _run(market: Path, line: str) -> str:
    args = shlex.split(line)[2:]  # after "$ brandlens"
    args = [
        str(market) if a == "data/" else str(ROOT / a) if a.startswith("docs/") else a for a in args
    ]
    r = CliRunner().invoke(app, [*args, "-q"], env={"COLUMNS": "100"})
    assert r.exit_code == 0, r.output
    return r.stdout


@pytest.fixture(scope="module")
def outputs(market: Path) -> dict[str, str]:
    """Each command's output, once."""
    lines = {"$ brandlens compare data/"}
    lines |= {b.splitlines()[0] for b in _blocks() if b.startswith("$ brandlens")}
    return {line: _run(market, line) for line in sorted(lines)}


def test_every_block_is_the_commands_output(outputs: dict[str, str]) -> None:
    blocks = _blocks()
    assert len(blocks) >= 7
    for block in blocks:
        first, _, rest = block.partition("\n")
        if first.startswith("$ brandlens"):
            assert rest.rstrip("\n") in outputs[first], first
        else:
            assert block.rstrip("\n") in outputs["$ brandlens compare data/"], first


def test_the_python_snippet_reads_as_the_demo_does(market: Path) -> None:
    import brandlens

    text = DOC.read_text(encoding="utf-8")
    said = re.search(r'c\.agreement\.reading  # "(.*?)\.\.\."', text)
    assert said is not None
    c = brandlens.compare(market)
    assert c.agreement is not None and c.agreement.reading.startswith(said.group(1))
