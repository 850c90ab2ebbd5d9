"""The one rendering module: a pydantic model in, table/json/csv/markdown text out.

JSON is the model itself (``model_dump_json``); the other formats render the
model's tabular sections, so csv and markdown carry the same rows as the table.

Text meant for a terminal (tables, markdown, the CLI's messages) goes through
``printable`` and ``plain``: data shows its control characters as escapes and is
never read as rich markup, so a brand cannot recolour the terminal or hide itself.
CSV keeps the raw values, quoted so that any value round-trips.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from brandlens.cli.bench import BenchReport
from brandlens.engine.result import (
    CacheReport,
    Comparison,
    EntityListing,
    Result,
    ValidationReport,
    VerifyReport,
)
from brandlens.plugin import catalog

if TYPE_CHECKING:  # pragma: no cover
    from rich.text import Text


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


@dataclass
class Section:
    """A titled table: what csv, markdown and rich tables are made of."""

    title: str
    columns: list[str]
    rows: list[list[Any]]


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 controls, line separators, and the bidi overrides that reorder shown text."""
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    c = match.group()
    return _NAMED.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")


def printable(text: str, newlines: bool = False) -> str:
    """Control characters as visible escapes (ESC as \\x1b); keep line breaks if asked."""
    if newlines:
        return "\n".join(_CONTROL.sub(_escape, line) for line in text.split("\n"))
    return _CONTROL.sub(_escape, text)


def plain(text: str, style: str = "", newlines: bool = False) -> Text:
    """Data or user input for rich: printable, and a Text so ``[bold]`` is shown, not parsed."""
    from rich.text import Text

    return Text(printable(text, newlines), style=style)


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}" if abs(v) < 1e6 else f"{v:,.2f}"
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    return str(v)


def sections(model: BaseModel) -> list[Section]:
    """The tabular view of each model the CLI prints."""
    if isinstance(model, Result):
        cols = [
            "methodology",
            "indicator",
            "brand",
            "dimension",
            "key",
            "value",
            "numerator",
            "denominator",
            "unit",
        ]
        out = [Section("results", cols, [[getattr(r, c) for c in cols] for r in model.results])]
        return out + _problem_sections(model)
    if isinstance(model, Comparison):
        cols = ["brand"] + [c.indicator for c in model.columns]
        rows = [[r.brand] + [r.values.get(c.indicator) for c in model.columns] for r in model.rows]
        return [Section("comparison", cols, rows), *_problem_sections(model)]
    if isinstance(model, EntityListing):
        title = f"{model.methodology}.{model.table}: {model.title}"
        rows = [[r.get(c) for c in model.columns] for r in model.rows]
        return [Section(title, list(model.columns), rows)]
    if isinstance(model, ValidationReport):
        tcols = ["table", "source", "rows_read", "rows_accepted", "rows_quarantined"]
        out = [Section("tables", tcols, [[getattr(t, c) for c in tcols] for t in model.tables])]
        rows = [
            [r.table, r.reason, r.count, "; ".join(_example(e) for e in r.examples)]
            for r in model.reasons
        ]
        out.append(Section("quarantined", ["table", "reason", "count", "examples"], rows))
        return out
    if isinstance(model, catalog.PluginList):
        cols = ["name", "origin", "version", "methodologies", "presets", "hooks", "errors"]
        return [Section("plugins", cols, [[getattr(p, c) for c in cols] for p in model.plugins])]
    if isinstance(model, catalog.MethodologyList):
        cols = ["name", "title", "version", "indicators", "entities", "plugin", "source"]
        rows = [[getattr(m, c) for c in cols] for m in model.methodologies]
        return [Section("methodologies", cols, rows)]
    if isinstance(model, catalog.IndicatorList):
        cols = ["id", "title", "unit", "direction", "dimension", "headline"]
        return [
            Section("indicators", cols, [[getattr(i, c) for c in cols] for i in model.indicators])
        ]
    if isinstance(model, catalog.Explanation):
        fields = [
            "id",
            "title",
            "title_zh",
            "methodology_title",
            "unit",
            "direction",
            "dimension",
            "keys",
            "headline",
            "definition",
            "formula",
            "requires",
            "properties",
            "source",
            "sql",
        ]
        rows = [[f, getattr(model, f)] for f in fields if getattr(model, f) not in (None, [])]
        out = [Section(model.id, ["field", "value"], rows)]
        prows = [[p.name, p.default, p.description, p.source] for p in model.parameters]
        out.append(Section("parameters", ["name", "default", "description", "source"], prows))
        return out
    if isinstance(model, VerifyReport):
        return _verify_sections(model)
    if isinstance(model, BenchReport):
        facts = ["brandlens_version", "duckdb_version", "machine", "cores", "memory_gb", "data"]
        out = [Section("machine", ["field", "value"], [[f, getattr(model, f)] for f in facts])]
        cols = ["step", "seconds", "events_per_second", "peak_rss_mb", "ratio_to_floor", "note"]
        rows = [
            [
                r.step,
                round(r.seconds, 2),
                None if r.events_per_second is None else round(r.events_per_second),
                round(r.peak_rss_mb),
                None if r.ratio_to_floor is None else round(r.ratio_to_floor, 1),
                r.note,
            ]
            for r in model.rows
        ]
        out.append(Section(f"bench: {model.events:,} events", cols, rows))
        return out
    if isinstance(model, CacheReport):
        fields = ["path", "enabled", "entries", "bytes", "max_bytes", "removed"]
        return [Section("cache", ["field", "value"], [[f, getattr(model, f)] for f in fields])]
    raise TypeError(f"no tabular view for {type(model).__name__}")


def _problem_sections(model: Result | Comparison) -> list[Section]:
    """Failed indicators, then indicators the data does not allow (both only when present)."""
    out = []
    if model.errors:
        ecols = ["methodology", "indicator", "brand", "message"]
        out.append(Section("errors", ecols, [[getattr(e, c) for c in ecols] for e in model.errors]))
    if model.not_applicable:
        ncols = ["methodology", "indicator", "reason"]
        rows = [[getattr(n, c) for c in ncols] for n in model.not_applicable]
        out.append(Section("not applicable", ncols, rows))
    return out


_SHORT = {
    "bounds": "bounds",
    "integer": "int",
    "non_negative": "≥0",
    "partition": "partition",
    "identity": "identity",
    "ratio_of": "ratio",
    "permutation_invariant": "permute",
    "brand_isolated": "isolated",
    "monotone": "monotone",
    "time_shift_invariant": "shift",
    "window_bounded": "window",
    "deterministic": "determ",
    "empty_brand": "empty",
    "scale_equivariant": "scale",
}


_STATUS = {"pass": "ok", "fail": "FAIL", "unexercised": "UNEXERCISED"}
_RANK = {"ok": 0, "UNEXERCISED": 1, "FAIL": 2}  # what a shared cell shows: the worst


def _verify_sections(model: VerifyReport) -> list[Section]:
    """A grid per methodology (indicator x property kind -> ok/FAIL), then the failures.

    Several properties of one kind (two monotone additions, say) share a cell: FAIL if
    any fails, else UNEXERCISED if any was never exercised; the failures section names the
    exact property.
    """
    out: list[Section] = []
    for m in model.methodologies:
        kinds = [k for k in _SHORT if any(r.property.split(" ")[0] == k for r in m.results)]
        grid: dict[str, dict[str, str]] = {}
        for r in m.results:
            kind = r.property.split(" ")[0]
            cell = grid.setdefault(r.indicator, {})
            shown = _STATUS.get(r.status, r.status)
            if _RANK.get(shown, 0) >= _RANK.get(cell.get(kind, ""), -1):
                cell[kind] = shown
        rows = [[ind] + [cells.get(k, "") for k in kinds] for ind, cells in sorted(grid.items())]
        title = (
            f"{m.methodology} ({m.plugin}): {m.probes} probe logs, {m.examples} random "
            f"examples, seed {m.seed}"
        )
        out.append(Section(title, ["indicator", *[_SHORT[k] for k in kinds]], rows))
        failures = [
            [r.indicator, r.property, r.message, r.left, r.right, r.counterexample]
            for r in m.results
            if r.status != "pass"
        ] + [["", "spec", e, None, None, ""] for e in m.spec_errors]
        if failures:
            cols = ["indicator", "property", "problem", "expected", "got", "counterexample"]
            out.append(Section(f"{m.methodology} failures", cols, failures))
    return out


def _example(e: dict[str, Any]) -> str:
    return (
        "row "
        + str(e.get("row"))
        + ": "
        + ", ".join(f"{k}={v}" for k, v in e.items() if k != "row")
    )


def render(model: BaseModel, fmt: Format, color: bool = True, width: int | None = None) -> str:
    """Render a model in the requested format (text ending with a newline)."""
    if fmt is Format.json:
        return model.model_dump_json(indent=2) + "\n"
    secs = sections(model)
    if fmt is Format.csv:
        main = secs[0]  # csv carries the data rows; errors go to stderr as messages
        lines = [_csv_line(main.columns)]
        for row in main.rows:
            lines.append(
                _csv_line(
                    ["" if v is None else (",".join(v) if isinstance(v, list) else v) for v in row]
                )
            )
        return "".join(lines)
    if fmt is Format.markdown:
        parts = []
        for s in secs:
            parts.append(f"### {_md(s.title)}\n")
            parts.append("| " + " | ".join(_md(c) for c in s.columns) + " |")
            parts.append("|" + "---|" * len(s.columns))
            for row in s.rows:
                parts.append("| " + " | ".join(_md(_fmt(v)) for v in row) + " |")
            parts.append("")
        return "\n".join(parts)
    return _rich_tables(model, secs, color, width)


def _csv_line(row: list[Any]) -> str:
    """One CSV record ending in LF, with every field holding CR or LF quoted.

    The csv module quotes only the characters of its line terminator, so with "\\n" a
    bare CR would be written unquoted and split the record for other readers.
    """
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(row)
    return buf.getvalue()[:-2] + "\n"


def _md(text: str) -> str:
    """A markdown table cell: one line, printable, pipes escaped (multi-line SQL reads on)."""
    return printable(text.replace("\r\n", " ").replace("\n", " ")).replace("|", "\\|")


def _rich_tables(model: BaseModel, secs: list[Section], color: bool, width: int | None) -> str:
    from rich.console import Console
    from rich.table import Table

    buf = io.StringIO()
    console = Console(
        file=buf,
        no_color=not color,
        color_system="standard" if color else None,
        width=width or 120,
        force_terminal=color,
        highlight=False,
    )
    header = _header(model)
    if header:
        console.print(plain(header))
    if isinstance(model, VerifyReport):  # failures read better as text blocks than as cells
        secs = [s for s in secs if not s.title.endswith(" failures")]
    for s in secs:
        table = Table(title=plain(s.title), title_justify="left", show_lines=False)
        for c in s.columns:
            cells = [r[s.columns.index(c)] for r in s.rows if r[s.columns.index(c)] is not None]
            numeric = bool(cells) and all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in cells
            )
            table.add_column(
                plain(_column_title(model, c), newlines=True),
                justify="right" if numeric else "left",
                overflow="fold",
            )
        for row in s.rows:
            table.add_row(*[plain(_fmt(v), newlines=True) for v in row])
        console.print(table)
    if isinstance(model, VerifyReport) and not model.passed:
        console.print(plain(failure_report(model), newlines=True))
    return buf.getvalue()


def failure_report(report: VerifyReport) -> str:
    """Each failure: what broke, the two values that disagreed, the shrunk counterexample."""
    lines: list[str] = []
    for m in report.methodologies:
        for err in m.spec_errors:
            lines.append(f"✗ {m.methodology}: spec: {err}")
        for r in m.results:
            if r.status == "pass":
                continue
            lines.append(f"✗ {r.indicator} · {r.property}: {r.message}")
            if r.status == "unexercised":
                continue
            lines.append(f"    expected {r.left!r}, got {r.right!r}")
            lines.extend("    │ " + line for line in r.counterexample.splitlines())
    return "\n".join(lines)


def _header(model: BaseModel) -> str:
    if isinstance(model, EntityListing):
        d = model.dataset
        return (
            f"as of {model.as_of} ({model.timezone}) · {d.source} · {len(model.rows)} "
            f"row(s) for {len(model.brands)} brand(s)"
        )
    if isinstance(model, Result | Comparison):
        d = model.dataset
        return (
            f"as of {model.as_of} ({model.timezone}) · {d.source}: {d.rows_accepted} of "
            f"{d.rows_read} rows accepted, {d.rows_quarantined} quarantined"
        )
    return ""


def _column_title(model: BaseModel, column: str) -> str:
    if isinstance(model, Comparison):
        for c in model.columns:
            if c.indicator == column:
                arrow = "↑" if c.direction == "higher" else "↓"
                return f"{c.methodology.upper()}\n{c.title} {arrow}\n({c.unit})"
    return column
