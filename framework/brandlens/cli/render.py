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
import math
import re
import sys
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from brandlens.engine.result import (
    CacheReport,
    EntityListing,
    LoadReport,
    Result,
    UnmatchedValues,
    ValidationReport,
    VerifyReport,
)

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console
    from rich.text import Text

    from brandlens.analysis.model import Comparison, FunnelReport


def _kind(module: str, name: str) -> Any:
    """The model class ``module.name`` if that module is loaded, else ``()``.

    A model of a class can exist only once its module is loaded, so the checks below
    never import one: a command that renders a result does not pay for loading the
    comparison, bench and catalog models (about 50 ms of every command's start-up).
    ``isinstance(x, ())`` is False.
    """
    loaded = sys.modules.get(module)
    return getattr(loaded, name) if loaded is not None else ()


def _comparison() -> Any:
    return _kind("brandlens.analysis.model", "Comparison")


def _funnel() -> Any:
    return _kind("brandlens.analysis.model", "FunnelReport")


def _bench() -> Any:
    return _kind("brandlens.cli.bench", "BenchReport")


def _catalog(name: str) -> Any:
    return _kind("brandlens.plugin.catalog", name)


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
    shown: list[list[str]] | None = None
    """The rows as a person reads them (tables, markdown); CSV keeps ``rows`` exact."""
    lead: int = 0
    """Columns that name a row (brand, product): a terminal table too wide for the screen
    is cut into blocks of columns, each repeating these, instead of splitting its cells
    across lines. 0: the cells fold."""


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


def _measured(unit: str | None, value: Any, numerator: Any, denominator: Any) -> list[str]:
    """A result's value, numerator and denominator for reading: money with two decimals
    and separators, ratios as percentages (as compare shows them), counts with separators.
    JSON and CSV keep every digit."""

    def number(v: Any) -> str:
        if not isinstance(v, int | float) or isinstance(v, bool):
            return _fmt(v)
        if float(v).is_integer():
            return f"{v:,.0f}"
        return f"{v:,.2f}" if abs(v) >= 100 else f"{v:.6g}"

    if not isinstance(value, int | float) or isinstance(value, bool):
        shown = _fmt(value)
    elif unit == "ratio":
        shown = percent(value)
    elif unit == "currency":
        shown = f"{value:,.2f}"
    elif unit in ("index", "days"):
        shown = f"{value:,.1f}"
    else:
        shown = number(value)
    return [shown, number(numerator), number(denominator)]


def _full(v: Any) -> str:
    """A value at full precision (what JSON holds): floats as Python writes them."""
    if isinstance(v, float):
        return repr(v)
    return _fmt(v)


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
        rows = [[getattr(r, c) for c in cols] for r in model.results]
        shown = [
            [
                *(_fmt(v) for v in row[:5]),
                *_measured(r.unit, r.value, r.numerator, r.denominator),
                _fmt(row[8]),
            ]
            for row, r in zip(rows, model.results, strict=True)
        ]
        return [Section("results", cols, rows, shown), *_problem_sections(model)]
    if isinstance(model, _comparison()):
        return [*_comparison_sections(model), *_problem_sections(model)]
    if isinstance(model, _funnel()):
        cols = ["methodology", "ladder", "stage", "title", "step", "users", "share", "before"]
        cols += ["gained", "lost"]
        rows = [
            [lad.methodology, lad.ladder, *[getattr(st, c) for c in cols[2:]]]
            for lad in model.ladders
            for st in lad.stages
        ]
        return [Section(f"funnel: {model.brand}", cols, rows)]
    if isinstance(model, EntityListing):
        title = f"{model.methodology}.{model.table}: {model.title}"
        rows = [[r.get(c) for c in model.columns] for r in model.rows]
        lead = 2 if len(model.columns) > 2 and model.columns[0] == "brand" else 1
        return [Section(title, list(model.columns), rows, lead=lead)]
    if isinstance(model, ValidationReport):
        tcols = ["table", "source", "rows_read", "rows_accepted", "rows_quarantined"]
        if any(t.identical_rows for t in model.tables):
            tcols.append("identical_rows")
        out = [Section("tables", tcols, [[getattr(t, c) for c in tcols] for t in model.tables])]
        rows = [
            [
                r.table,
                r.reason,
                r.count,
                ", ".join(f"{c} {n}" for c, n in r.columns.items()),
                _top_values(r),
                "; ".join(_example(e) for e in r.examples),
            ]
            for r in model.reasons
        ]
        cols = ["table", "reason", "count", "columns", "top values", "examples"]
        out.append(Section("quarantined", cols, rows))
        times = [
            ["times without a UTC offset read in", model.ts_timezone],
            ["local dates in", model.timezone],
        ]
        out.append(Section("time zones", ["field", "value"], times))
        if isinstance(model, LoadReport):
            share = model.same_user_share
            facts = [
                ["dataset", model.dataset],
                ["events", "by month, then user" if model.clustered else "in the order read"],
                ["months", model.months if model.clustered else None],
                ["same_user_share", None if share is None else round(share, 3)],
            ]
            out.append(Section("dataset file", ["field", "value"], facts))
        return out
    if isinstance(model, _catalog("PluginList")):
        cols = ["name", "origin", "version", "methodologies", "presets", "hooks", "errors"]
        return [Section("plugins", cols, [[getattr(p, c) for c in cols] for p in model.plugins])]
    if isinstance(model, _catalog("MethodologyList")):
        cols = ["name", "title", "version", "indicators", "entities", "plugin", "source"]
        rows = [[getattr(m, c) for c in cols] for m in model.methodologies]
        return [Section("methodologies", cols, rows)]
    if isinstance(model, _catalog("IndicatorList")):
        cols = ["id", "title", "unit", "direction", "dimension", "headline"]
        return [
            Section("indicators", cols, [[getattr(i, c) for c in cols] for i in model.indicators])
        ]
    if isinstance(model, _catalog("Explanation")):
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
    if isinstance(model, _bench()):
        facts = ["brandlens_version", "duckdb_version", "machine", "cores", "memory_gb", "data"]
        facts += ["repeat", "bytecode", "checks_remembered"]
        out = [Section("machine", ["field", "value"], [[f, getattr(model, f)] for f in facts])]
        cols = ["step", "seconds", "range", "cpu_seconds", "runs", "events_per_second"]
        cols += ["peak_rss_mb", "ratio_to_floor", "note"]
        rows = [
            [
                r.step,
                None if r.seconds is None else round(r.seconds, 2),  # None: never ran
                f"{r.min_seconds:.2f}-{r.max_seconds:.2f}" if r.runs > 1 else "",
                None if r.cpu_seconds is None else round(r.cpu_seconds, 2),
                r.runs,
                None if r.events_per_second is None else round(r.events_per_second),
                None if r.peak_rss_mb is None else round(r.peak_rss_mb),
                None if r.ratio_to_floor is None else round(r.ratio_to_floor, 1),
                r.note,
            ]
            for r in model.rows
        ]
        out.append(Section(f"bench: {model.events:,} events (medians)", cols, rows))
        tcols = ["target", "measured", "goal", "met"]
        trows = [
            [
                t.target,
                None if t.measured is None else round(t.measured, 2),
                t.goal,
                "not measured" if t.met is None else ("yes" if t.met else "no"),
            ]
            for t in model.targets
        ]
        out.append(Section("targets of issue #11 (on the medians)", tcols, trows))
        return out
    if isinstance(model, CacheReport):
        fields = ["path", "enabled", "entries", "bytes", "max_bytes", "removed"]
        rows = [[f, getattr(model, f)] for f in fields]
        shown = [[f, _size(v) if f.endswith("bytes") else _fmt(v)] for f, v in rows]
        return [Section("cache", ["field", "value"], rows, shown=shown)]
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
    short = [("history shorter than read", model.short_history)]
    base = getattr(model, "baseline", None)
    if base is not None:
        short.append((f"baseline ({base.as_of}): history shorter than read", base.short_history))
    hcols = ["methodology", "reads_from", "data_from", "days"]
    for title, history in short:
        if history:
            out.append(Section(title, hcols, [[getattr(h, c) for c in hcols] for h in history]))
    if model.unmatched_values:
        ucols = ["methodology", "parameter", "column", "values", "did_you_mean", "most_common"]
        rows = [
            [
                u.methodology,
                u.parameter,
                u.column,
                ", ".join(u.values),
                ", ".join(f"{v} → {g}" for v, g in u.did_you_mean.items()),
                ", ".join(u.most_common),
            ]
            for u in model.unmatched_values
        ]
        out.append(Section("parameter values no event has", ucols, rows))
    return out


_PLURAL = {"category": "categories"}


def unmatched_text(u: UnmatchedValues) -> str:
    """One sentence on values a parameter names that no event has: what it means for
    the numbers, what the data holds instead, and how to set it."""
    noun = _PLURAL.get(u.column, f"{u.column} values")
    named = ", ".join(_unmatched_value(v, u.did_you_mean.get(v)) for v in u.values)
    readers = ", ".join(u.indicators)
    said = (
        f"{u.methodology}.{u.parameter} (read by {readers}) names {noun} no event up to "
        f"the as-of date has: {named}; nothing is counted for them"
    )
    if not u.most_common:
        return f"{said}; no event has any {u.column}"
    return (
        f"{said}; the data's most common {noun}: {', '.join(u.most_common)} (set it with "
        f"--param {u.methodology}.{u.parameter}=A,B)"
    )


def _unmatched_value(value: str, meant: str | None) -> str:
    if meant is None:
        return value
    if unicodedata.normalize("NFC", value) == unicodedata.normalize("NFC", meant):
        return f"{value} (the data's {meant} has the same letters in another Unicode form)"
    return f"{value} (did you mean {meant}?)"


_SHORT = {
    "bounds": "bounds",
    "integer": "int",
    "non_negative": "≥0",
    "partition": "partition",
    "identity": "identity",
    "ratio_of": "ratio",
    "base": "base",
    "permutation_invariant": "permute",
    "brand_isolated": "isolated",
    "monotone": "monotone",
    "threshold": "edge",
    "time_shift_invariant": "shift",
    "window_bounded": "window",
    "reads_only": "reads",
    "deterministic": "determ",
    "empty_brand": "empty",
    "scale_equivariant": "scale",
    "parameters": "params",
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
        found = {r.property.split(" ")[0] for r in m.results}
        kinds = [k for k in _SHORT if k in found] + sorted(found - set(_SHORT))
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
        out.append(Section(title, ["indicator", *[_SHORT.get(k, k) for k in kinds]], rows))
        failures = [
            [r.indicator, r.property, r.message, r.left, r.right, r.counterexample]
            for r in m.results
            if r.status != "pass"
        ] + [["", "spec", e, None, None, ""] for e in m.spec_errors]
        if failures:
            cols = ["indicator", "property", "problem", "expected", "got", "counterexample"]
            out.append(Section(f"{m.methodology} failures", cols, failures))
    return out


def _top_values(r: Any) -> str:
    """A reason's most frequent values, quoted so that spaces show ('购买 ' 3), each with
    its column when the reason is about more than one."""
    named = len(r.columns) > 1
    return ", ".join(
        f"{v.column}={v.value!r} {v.rows}" if named else f"{v.value!r} {v.rows}" for v in r.values
    )


def _example(e: dict[str, Any]) -> str:
    where = f"{e['file']} row {e.get('row')}" if "file" in e else f"row {e.get('row')}"
    if "column" in e:
        where += f" [{e['column']}]"
    values = (f"{k}={v}" for k, v in e.items() if k not in ("row", "file", "column"))
    return where + ": " + ", ".join(values)


def render(model: BaseModel, fmt: Format, color: bool = True, width: int | None = None) -> str:
    """Render a model in the requested format (text ending with a newline)."""
    if fmt is Format.json:
        return model.model_dump_json(indent=2) + "\n"
    secs = sections(model)
    if fmt is Format.csv and isinstance(model, _comparison()):  # the long form: every answer
        records = model.records()
        names = list(records[0]) if records else ["methodology", "indicator", "brand", "value"]
        return "".join(
            _csv_line(row)
            for row in [names, *[["" if v is None else v for v in r.values()] for r in records]]
        )
    if fmt is Format.csv:
        # csv carries the data rows (a bench's steps, after its machine); errors go to
        # stderr as messages. A result's lines each say their as-of date: a file read
        # later, or concatenated with another run's, still says what it counts.
        main = secs[1] if isinstance(model, _bench()) else secs[0]
        tail = [model.as_of] if isinstance(model, Result) else []
        lines = [_csv_line(main.columns + (["as_of"] if tail else []))]
        for row in main.rows:
            lines.append(
                _csv_line(
                    ["" if v is None else (",".join(v) if isinstance(v, list) else v) for v in row]
                    + tail
                )
            )
        return "".join(lines)
    if fmt is Format.markdown:
        cell = _full if isinstance(model, (_comparison(), _funnel())) else _fmt
        parts = []
        for s in secs:
            parts.append(f"### {_md(s.title)}\n")
            parts.append("| " + " | ".join(_md(c) for c in s.columns) + " |")
            parts.append("|" + "---|" * len(s.columns))
            if s.shown is not None:
                parts += ["| " + " | ".join(_md(v) for v in row) + " |" for row in s.shown]
            for row in s.rows if s.shown is None else []:
                parts.append("| " + " | ".join(_md(cell(v)) for v in row) + " |")
            parts.append("")
        return "\n".join(parts)
    if isinstance(model, (_comparison(), _funnel())):
        console = _console(color, width)
        console.print(plain(_header(model)))
        if isinstance(model, _comparison()):
            comparison_text(console, model, color)
        else:
            funnel_text(console, model)
        return console.file.getvalue()  # type: ignore[attr-defined]
    return _rich_tables(model, secs, color, width)


def _console(color: bool, width: int | None) -> Console:
    from rich.console import Console

    return Console(
        file=io.StringIO(),
        no_color=not color,
        color_system="standard" if color else None,
        width=width or 120,
        force_terminal=color,
        highlight=False,
    )


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
        if not s.rows:  # an empty grid reads as a broken one
            console.print(plain(f"{s.title}: none"))
            continue
        numeric = [_numeric([r[i] for r in s.rows]) for i in range(len(s.columns))]
        shown = s.shown if s.shown is not None else [[_fmt(v) for v in r] for r in s.rows]
        if s.lead:
            n = s.lead
            grid = _Grid(
                s.title,
                s.columns[:n],
                s.columns[n:],
                [(row[:n], row[n:]) for row in shown],
                align=numeric[n:],
            )
            if not _fits(grid, console.width):
                _print_grid(console, grid, color)
                continue
        # the title is a line of its own: a table title would wrap at the table's width
        console.print(plain(s.title))
        table = Table(show_lines=False)
        for c, right in zip(s.columns, numeric, strict=True):
            table.add_column(
                plain(c, newlines=True),
                justify="right" if right else "left",
                overflow="fold",
            )
        for row in shown:
            table.add_row(*[plain(v, newlines=True) for v in row])
        console.print(table)
    if isinstance(model, VerifyReport) and not model.passed:
        console.print(plain(failure_report(model), newlines=True))
    return buf.getvalue()


def _size(n: int) -> str:
    """Bytes as a person reads them (GB = 10^9 bytes), the exact count beside."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit} ({n:,} bytes)"
    return f"{n:,} bytes"


def _numeric(values: list[Any]) -> bool:
    """A column of numbers (right-aligned): every value given is an int or a float."""
    cells = [v for v in values if v is not None]
    return bool(cells) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in cells
    )


def failure_report(report: VerifyReport) -> str:
    """Each failure: what broke, the two values that disagreed, the shrunk counterexample."""
    lines: list[str] = []
    for m in report.methodologies:
        for err in m.spec_errors:
            lines.append(f"✗ {m.methodology}: spec: {err}")
        # An indicator that does not run fails every property it declares with the same
        # error: said once, with the log it failed on, not once per property.
        broken: dict[tuple[str, str], list[Any]] = {}
        for r in m.results:
            if r.status == "fail" and r.message.startswith("did not compute: "):
                broken.setdefault((r.indicator, r.message), []).append(r)
        for (indicator, message), cells in broken.items():
            error = message.removeprefix("did not compute: ")
            lines.append(
                f"✗ {indicator} does not run ({len(cells)} propert"
                f"{'y' if len(cells) == 1 else 'ies'} not checked): {error}"
            )
            lines.extend("    │ " + line for line in cells[0].counterexample.splitlines())
        for r in m.results:
            if r.status == "pass" or (r.indicator, r.message) in broken:
                continue
            lines.append(f"✗ {r.indicator} · {r.property}: {r.message}")
            if r.status == "unexercised":
                continue
            if (r.left, r.right) != (None, None):
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
    if isinstance(model, _funnel()):
        return f"{model.brand} as of {model.as_of} ({model.timezone}) · {model.dataset.source}"
    if isinstance(model, (Result, _comparison())):
        d = model.dataset
        return (
            f"as of {model.as_of} ({model.timezone}) · {d.source}: {d.rows_accepted} of "
            f"{d.rows_read} rows accepted, {d.rows_quarantined} quarantined"
        )
    return ""


# ---- comparison and funnel ----------------------------------------------------------------
# The terminal view formats values by unit and never lets a cell wrap: a table that would
# not fit the width is laid out another way (brands as rows) or split into column blocks.

NULL_MARKS = {"no_denominator": "¹", "not_applicable": "²", "failed": "³", "no_value": "⁴"}
NULL_NOTES = {
    "no_denominator": "no denominator: nothing to divide by",
    "not_applicable": "not applicable: the data lacks a table or column it needs",
    "failed": "failed: see the error on stderr",
    "no_value": "no value returned",
}
BEST = "*"
SMALL_BASE = "†"
PARTIAL = "‡"


def _rounded(value: float, digits: int, rounding: str = ROUND_HALF_UP) -> Decimal:
    """``value`` read as its shortest decimal (repr), a half rounded away from zero as a
    reader does (12.5 is 13 and 87.5 is 88; Python's format rounds half to even, which
    showed 12 beside 88), unless ``rounding`` says otherwise (``ROUND_DOWN`` cuts)."""
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-digits), rounding)


def half_up(value: float, digits: int) -> str:
    """``value`` with ``digits`` decimals, thousands separated, a half rounded up."""
    return f"{_rounded(value, digits):,.{digits}f}"


def format_value(value: Any, unit: str, currency: str = "CNY") -> str:
    """A value for a person: ratios as percentages, counts with separators, money with a code."""
    if value is None:
        return "–"
    if unit == "ratio":
        return percent(value)
    if unit in ("users", "count", "index"):
        return half_up(value, 0)
    if unit == "currency":  # no decimals from 1,000 up, judged on the value as shown
        return f"{currency} {half_up(value, 0 if abs(_rounded(value, 2)) >= 1000 else 2)}"
    if unit == "days":
        return f"{half_up(value, 1)} d"
    return _fmt(value)


def _percent_digits(pct: float | Decimal) -> int:
    """Two significant digits below 1%, one decimal from 1% up."""
    return max(1, 1 - math.floor(math.log10(abs(pct))))


def percent(ratio: float) -> str:
    """Two significant digits below 1%, one decimal above: 0.047%, 3.3%, 35.6%, 127.0%;
    the digits are chosen for the value as rounded (0.99996% is 1.0%, not 1.00%).

    Only a value of exactly 100% reads 100.0%: a share of 0.99996 is 99.996%, not
    "everyone" beside a true 100% (digits are added until it differs, to six, and the
    sixth is cut, never rounded up to 100).
    """
    pct = float(ratio) * 100
    if pct == 0:
        return "0%"
    digits = _percent_digits(pct)
    digits = min(digits, _percent_digits(_rounded(pct, digits)))
    if abs(pct) != 100:
        while abs(_rounded(pct, digits)) == 100 and digits < _NEAR_ALL_DIGITS:
            digits += 1
        if abs(_rounded(pct, digits)) == 100:
            return f"{_rounded(pct, digits, ROUND_DOWN):,.{digits}f}%"
    return f"{half_up(pct, digits)}%"


_NEAR_ALL_DIGITS = 6  # at most 99.999999% (cut, not rounded): nearer still reads the same


def _signed_percent(ratio: float) -> str:
    return ("+" if ratio > 0 else "") + percent(ratio)


def _rank_text(rank: float | None) -> str:
    if rank is None:
        return "–"
    return f"{rank:.0f}" if float(rank).is_integer() else f"{rank:.1f}"


@dataclass
class _Grid:
    """A table to lay out: leading columns repeated in every block, then data columns."""

    title: str
    lead: list[str]
    data: list[str]
    rows: list[tuple[list[str], list[str]]]  # (lead cells, data cells)
    right: bool = True  # data columns right-aligned
    align: list[bool] | None = None  # per data column, right-aligned or not (else `right`)


def _width(cells: list[str]) -> int:
    from rich.cells import cell_len

    return max((cell_len(printable(c)) for c in cells), default=0)


def _col_widths(grid: _Grid, width: int | None = None) -> tuple[list[int], list[int]]:
    """Each column's width; where the table is wider than ``width``, a brand column
    takes at most a third of it (its names wrap at spaces, see :func:`_name_width`)."""
    lead = [_width([h] + [r[0][i] for r in grid.rows]) for i, h in enumerate(grid.lead)]
    data = [_width([h] + [r[1][i] for r in grid.rows]) for i, h in enumerate(grid.data)]
    if width is not None and _table_width(lead + data) > width:
        lead = [
            _name_width(grid, i, w, width) if h == NAMES else w
            for i, (h, w) in enumerate(zip(grid.lead, lead, strict=True))
        ]
    return lead, data


NAMES = "brand"  # the leading column that wraps rather than cut a name


def _name_width(grid: _Grid, i: int, natural: int, width: int) -> int:
    """A brand column's width in a table too wide for the terminal: a third of it,
    never narrower than the longest word, nor wider than the longest name. Cut with
    "…", two names with a long common start read the same; wrapped, both are whole."""
    from rich.cells import cell_len

    words = [cell_len(w) for r in grid.rows for w in printable(r[0][i]).split()]
    return min(natural, max(width // 3, max(words, default=0), cell_len(grid.lead[i])))


def _table_width(widths: list[int]) -> int:
    """Rich's default box: one space of padding each side and one rule between columns."""
    return sum(w + 3 for w in widths) + 1


def _fits(grid: _Grid, width: int) -> bool:
    lead, data = _col_widths(grid, width)
    return _table_width(lead + data) <= width


def _blocks(lead: list[int], data: list[int], width: int) -> list[list[int]]:
    """Data columns (of ``data``'s widths) split greedily into blocks that fit beside
    the leading columns (of ``lead``'s)."""
    room = width - _table_width(lead)
    blocks: list[list[int]] = [[]]
    used = 0
    for i, w in enumerate(data):
        if blocks[-1] and used + w + 3 > room:
            blocks.append([])
            used = 0
        blocks[-1].append(i)
        used += w + 3
    return blocks


def _print_grid(console: Console, grid: _Grid, color: bool) -> None:
    from rich.table import Table

    lead_widths, data_widths = _col_widths(grid, console.width)
    for n, block in enumerate(_blocks(lead_widths, data_widths, console.width)):
        # the title is a line of its own: a table title would wrap at the table's width
        console.print(plain(grid.title if n == 0 else f"{grid.title} (continued)"))
        table = Table(expand=False)
        for h, w in zip(grid.lead, lead_widths, strict=True):
            if h == NAMES:  # wrapped at spaces to the width chosen, never cut
                table.add_column(plain(h), max_width=w, overflow="fold")
            else:
                table.add_column(plain(h), no_wrap=True, overflow="ellipsis")
        for i in block:
            right = grid.right if grid.align is None else grid.align[i]
            justify = "right" if right else "left"
            table.add_column(plain(grid.data[i]), no_wrap=True, justify=justify)
        for lead, data in grid.rows:
            cells = [plain(c) for c in lead]
            for i in block:
                text = data[i]
                best = text.endswith(BEST) and color
                cells.append(plain(text, style="bold green" if best else ""))
            table.add_row(*cells)
        console.print(table)


def _cell(c: Comparison, row: Any, col: Any) -> str:
    value = row.values.get(col.indicator)
    if value is None:
        return "–" + NULL_MARKS[row.missing.get(col.indicator, "no_value")]
    text = format_value(value, col.unit, c.currency)
    if col.indicator in row.small_base:
        text += SMALL_BASE
    return text + BEST if row.brand in col.best else text


def small_base_note(c: Comparison) -> str | None:
    """The footnote of the small-base mark (a value's, or a change's either end)."""
    marked = any(r.small_base for r in c.rows) or (
        c.baseline is not None and any(x.small_base is not None for x in c.baseline.cells)
    )
    if not marked:
        return None
    return (
        f"{SMALL_BASE} taken over fewer than {c.min_base} people in its denominator: read "
        "with care; --min-base sets the floor"
    )


def partial_note(partial: dict[tuple[str, str], tuple[int, int]]) -> str:
    """The footnote of the partial-composite mark, naming each such composite."""
    which = "; ".join(f"{b} {m.upper()} {k} of {n}" for (m, b), (k, n) in sorted(partial.items()))
    return (
        f"{PARTIAL} over fewer headline indicators, no value on the rest (which can lift a "
        f"composite): {which}"
    )


def _arrow(direction: str) -> str:
    return "↑" if direction == "higher" else "↓"


def _short(indicator: str) -> str:
    return indicator.split(".", 1)[1]


def _methodology_columns(c: Comparison) -> list[tuple[str, list[Any]]]:
    return [(m, [col for col in c.columns if col.methodology == m]) for m in c.methodologies]


TITLE_WIDTH = 34
"""The widest an indicator title gets in the wide layout when whole titles would not fit
the width (longer ones then end in an ellipsis)."""


def _values_grids(c: Comparison, width: int) -> list[_Grid]:
    """Indicators as rows and brands as columns when every methodology's table fits the
    width, with whole titles if they fit too; otherwise brands as rows, one block per
    methodology (split if still too wide)."""
    blocks = [
        (m, [(col, [_cell(c, r, col) for r in c.rows]) for col in cols])
        for m, cols in _methodology_columns(c)
    ]
    for limit in (None, TITLE_WIDTH):
        wide = []
        for m, cells in blocks:
            rows = []
            for col, values in cells:
                title = f"{col.title} {_arrow(col.direction)}"
                if limit is not None and len(title) > limit:
                    title = col.title[: limit - 3].rstrip() + "… " + _arrow(col.direction)
                rows.append(([title], values))
            wide.append(_Grid(m.upper(), ["indicator"], [r.brand for r in c.rows], rows))
        if all(_fits(g, width) for g in wide):
            return wide
    tall = []
    for m, cols in _methodology_columns(c):
        heads = [f"{_short(col.indicator)} {_arrow(col.direction)}" for col in cols]
        rows = [([r.brand], [_cell(c, r, col) for col in cols]) for r in c.rows]
        tall.append(_Grid(m.upper(), ["brand"], heads, rows))
    return tall


def comparison_text(console: Console, c: Comparison, color: bool) -> None:
    """The comparison for a terminal: values, ranks, agreement, then the asked-for answers."""
    for grid in _values_grids(c, console.width):
        _print_grid(console, grid, color)
    used = sorted({r.missing[k] for r in c.rows for k in r.missing}, key=list(NULL_MARKS).index)
    notes = [f"{BEST} best on the row (↑ higher is better, ↓ lower)"]
    if (small := small_base_note(c)) is not None:
        notes.append(small)
    notes += [f"–{NULL_MARKS[u]} {NULL_NOTES[u]}" for u in used]
    for note in notes:
        console.print(plain(note))
    if c.rankings:
        from brandlens.analysis.compare import partial_composites

        heads = [r.methodology.upper() for r in c.rankings]
        by = {(r.methodology, b.brand): b for r in c.rankings for b in r.brands}
        partial = {(m, b): (k, n) for m, b, k, n in partial_composites(c.rankings)}
        rows = [
            (
                [row.brand],
                [
                    _rank_text(getattr(by.get((r.methodology, row.brand)), "composite_rank", None))
                    + (PARTIAL if (r.methodology, row.brand) in partial else "")
                    for r in c.rankings
                ],
            )
            for row in c.rows
        ]
        title = "composite rank per methodology (mean of headline ranks; 1 = best)"
        _print_grid(console, _Grid(title, ["brand"], heads, rows), color)
        if partial:
            console.print(plain(partial_note(partial)))
    if c.agreement is not None:
        console.print(
            plain("agreement between methodologies' composite rankings (Kendall's tau-b)")
        )
        for line in [p.reading for p in c.agreement.pairs] + c.agreement.reading.split("; "):
            console.print(plain("  " + line))
    if c.category is not None and c.category.cells:
        _category_grids(console, c, color)
    elif c.category is not None and c.category.uncategorised:
        _uncategorised_line(console, c)
    if c.baseline is not None:
        cells = {(x.brand, x.indicator): x for x in c.baseline.cells}
        for m, cols in _methodology_columns(c):
            heads = [_short(col.indicator) for col in cols]
            rows = [
                (
                    [r.brand],
                    [
                        change_text(cells.get((r.brand, col.indicator)), col.unit, c.currency)
                        for col in cols
                    ],
                )
                for r in c.rows
            ]
            title = f"{m.upper()}: change since {c.baseline.as_of} ({c.baseline.kind})"
            _print_grid(console, _Grid(title, ["brand"], heads, rows), color)
    if c.achievements:
        ids = list(dict.fromkeys(a.indicator for a in c.achievements))
        got = {(a.brand, a.indicator): a for a in c.achievements}
        ends = sorted({a.period_end for a in c.achievements})
        rows = [
            ([r.brand], [_achieved(got.get((r.brand, i))) for i in ids])
            for r in c.rows
            if any((r.brand, i) in got for i in ids)
        ]
        title = (
            "target achievement (actual ÷ target, ↓ target ÷ actual; ✓ reached; periods "
            f"ending {', '.join(ends)})"
        )
        lower = {a.indicator for a in c.achievements if a.direction == "lower"}
        heads = [f"{i} ↓" if i in lower else i for i in ids]
        _print_grid(console, _Grid(title, ["brand"], heads, rows), color)
    if c.benchmarks:
        ids = list(dict.fromkeys(b.indicator for b in c.benchmarks))
        got = {(b.brand, b.indicator): b for b in c.benchmarks}
        rows = [
            ([r.brand], [_band(got.get((r.brand, i))) for i in ids])
            for r in c.rows
            if any((r.brand, i) in got for i in ids)
        ]
        _print_grid(console, _Grid("published benchmarks", ["brand"], ids, rows, False), color)
        sources = sorted({b.source for b in c.benchmarks if b.source})
        if sources:
            console.print(plain("sources: " + "; ".join(sources)))
    if c.funnel is not None and c.funnel.cells:
        _funnel_grid(console, c, color)


def change_text(cell: Any, unit: str, currency: str) -> str:
    """Relative change where the baseline is not zero, else the change in the unit;
    marked when either value's base is small."""
    if cell is None or cell.change is None:
        return "–"
    mark = SMALL_BASE if getattr(cell, "small_base", None) is not None else ""
    if cell.change_rel is not None:
        return _signed_percent(cell.change_rel) + mark
    if cell.change == 0:
        return "0" + mark
    if unit == "ratio":  # from zero: the change in percentage points
        return f"{cell.change * 100:+,.1f} pt{mark}"
    return ("+" if cell.change > 0 else "") + format_value(cell.change, unit, currency) + mark


def _achieved(a: Any) -> str:
    """The achievement with ✓ where the target was reached; where no ratio is meaningful
    (a target of zero or below), whether it was reached alone."""
    if a is None:
        return ""
    if a.met is None:
        return "–"
    mark = "✓" if a.met else "✗"
    return mark if a.achievement is None else f"{percent(a.achievement)} {mark}"


def _band(b: Any) -> str:
    return "" if b is None or b.band is None else b.band


def _category_grids(console: Console, c: Comparison, color: bool) -> None:
    """Per methodology: each brand's index to its category median and its percentile."""
    assert c.category is not None
    cells = {(x.brand, x.indicator): x for x in c.category.cells}
    order = sorted(c.rows, key=lambda r: (r.category is None, r.category or "", r.brand))
    for m, cols in _methodology_columns(c):
        heads = [_short(col.indicator) for col in cols]
        rows = [
            (
                [r.brand, r.category or UNCATEGORISED],
                [
                    _context(
                        cells.get((r.brand, col.indicator)),
                        col.indicator in r.small_base,
                        has_value=r.values.get(col.indicator) is not None,
                    )
                    for col in cols
                ],
            )
            for r in order
        ]
        title = f"{m.upper()} within category: index to the median (100) · percentile"
        _print_grid(console, _Grid(title, ["brand", "category"], heads, rows), color)
    if c.category.uncategorised:
        console.print(plain(f"{UNCATEGORISED} {uncategorised_text(c.as_of)}"))


def _uncategorised_line(console: Console, c: Comparison) -> None:
    """No brand has a category: no table, but the reason, naming the brands."""
    assert c.category is not None
    brands = ", ".join(c.category.uncategorised)
    console.print(plain(f"within category: none for {brands}: {uncategorised_text(c.as_of)}"))


UNCATEGORISED = "(none)"


def uncategorised_text(as_of: str) -> str:
    """Why a brand has no category cells: said, so a blank is not read as a zero."""
    return (
        f"no purchase in a category with a positive amount up to {as_of}: no category "
        "to be compared within"
    )


def _context(x: Any, small: bool = False, has_value: bool = False) -> str:
    """Index · percentile, or ``alone`` when the brand's value is the only one in its
    category (its median would be its own value, its index always 100)."""
    if x is None:
        return ""
    if small:
        return _context(x, has_value=has_value) + SMALL_BASE
    if has_value and x.peers == 1:
        return "alone"
    index = "–" if x.index is None else half_up(x.index, 0)
    pct = "" if x.percentile is None else f" · p{half_up(x.percentile, 0)}"
    return index + pct


def _funnel_grid(console: Console, c: Comparison, color: bool) -> None:
    """Each brand under every ladder: users reached at each step and the step conversion."""
    assert c.funnel is not None
    f = c.funnel
    got = {(x.brand, x.ladder, x.step): x for x in f.cells}
    rows = []
    for r in c.rows:
        for i, lad in enumerate(f.ladders):
            cells = []
            for step in f.steps:
                x = got.get((r.brand, lad.ladder, step))
                if x is None or x.reached is None:
                    cells.append("")
                    continue
                conv = "" if x.conversion is None else f" ({percent(x.conversion)})"
                cells.append(f"{x.reached:,}{conv}")
            name = lad.title or f"{lad.methodology.upper()} {lad.ladder}"
            rows.append(([r.brand if i == 0 else "", name], cells))
    title = "funnel: users at each step or beyond (conversion from the step before)"
    _print_grid(console, _Grid(title, ["brand", "ladder"], list(f.steps), rows), color)


BAR = 24
"""Characters of the longest funnel bar."""


def funnel_text(console: Console, report: FunnelReport) -> None:
    """A brand's stages on each ladder as horizontal bars, with the flow over ``days``."""
    for lad in report.ladders:
        top = max((s.users for s in lad.stages), default=0)
        rows = []
        for s in lad.stages:
            length = 0 if not top else s.users / top * BAR
            bar = "█" * int(length) + ("▏" if s.users and length < 1 else "")
            share = "–" if s.share is None else percent(s.share)
            rows.append(
                (
                    [s.stage, s.title or "", bar],
                    [
                        f"{s.users:,}",
                        share,
                        f"{s.before:,}",
                        f"+{s.gained:,}" if s.gained else "0",  # not "-0"
                        f"-{s.lost:,}" if s.lost else "0",
                    ],
                )
            )
        heads = ["users", "share", f"{report.days} days ago", "in", "out"]
        title = (
            f"{lad.title or lad.methodology.upper() + ' · ' + lad.ladder}: {lad.users:,} users "
            f"({lad.users - lad.before:+,} in {report.days} days)"
        )
        _print_grid(console, _Grid(title, ["stage", "title", ""], heads, rows), False)


def _comparison_sections(c: Comparison) -> list[Section]:
    """Markdown's view: every answer as a table, values at full precision."""
    brands = [r.brand for r in c.rows]
    out = [
        Section(
            f"values as of {c.as_of} ({c.timezone}; currency {c.currency})",
            ["methodology", "indicator", "unit", "direction", "best", *brands],
            [
                [col.methodology, col.indicator, col.unit, col.direction, col.best]
                + [r.values.get(col.indicator) for r in c.rows]
                for col in c.columns
            ],
        )
    ]
    missing = [
        [r.brand, i, reason]
        for col in c.columns
        for r in c.rows
        if (reason := r.missing.get(i := col.indicator))
    ]
    if missing:
        out.append(Section("null values", ["brand", "indicator", "reason"], missing))
    small = [
        [r.brand, col.indicator, r.small_base[col.indicator], col.base]
        for col in c.columns
        for r in c.rows
        if col.indicator in r.small_base
    ]
    if small:
        title = f"values over a base under {c.min_base} (read with care)"
        out.append(Section(title, ["brand", "indicator", "base", "counts"], small))
    rank_rows = []
    for rk in c.rankings:
        for b in rk.brands:
            rank_rows += [[rk.methodology, b.brand, i, b.ranks.get(i)] for i in rk.indicators]
            rank_rows.append([rk.methodology, b.brand, "composite rank", b.composite_rank])
    if rank_rows:
        out.append(Section("ranks", ["methodology", "brand", "indicator", "rank"], rank_rows))
    if c.agreement is not None:
        a = c.agreement
        rows = [[p.first, p.second, p.tau_b, p.p_value, p.brands, p.reading] for p in a.pairs]
        rows.append(["all", "Kendall's W", a.kendall_w, a.p_value, a.brands, a.reading])
        cols = ["first", "second", "tau_b", "p_value", "brands", "reading"]
        out.append(Section("agreement", cols, rows))
    if c.category is not None:
        cols = ["brand", "indicator", "category", "peers", "median", "index", "percentile"]
        rows = [[getattr(x, k) for k in cols] for x in c.category.cells]
        out.append(Section("category", cols, rows))
        if c.category.uncategorised:
            why = uncategorised_text(c.as_of)
            rows = [[b, why] for b in c.category.uncategorised]
            out.append(Section("brands without a category", ["brand", "reason"], rows))
    if c.baseline is not None:
        cols = ["brand", "indicator", "value", "baseline", "change", "change_rel", "small_base"]
        rows = [[getattr(x, k) for k in cols] for x in c.baseline.cells]
        out.append(Section(f"baseline {c.baseline.as_of} ({c.baseline.kind})", cols, rows))
    if c.achievements:
        cols = ["brand", "indicator", "period_start", "period_end", "target", "actual"]
        cols += ["direction", "achievement", "met"]
        rows = [[getattr(x, k) for k in cols] for x in c.achievements]
        out.append(Section("targets", cols, rows))
    if c.benchmarks:
        cols = ["brand", "indicator", "category", "value", "p25", "p50", "p75", "top10", "band"]
        cols += ["index", "source"]
        rows = [[getattr(x, k) for k in cols] for x in c.benchmarks]
        out.append(Section("benchmarks", cols, rows))
    if c.funnel is not None:
        cols = ["brand", "methodology", "ladder", "step", "users", "reached", "conversion"]
        rows = [[getattr(x, k) for k in cols] for x in c.funnel.cells]
        out.append(Section("funnel", cols, rows))
    return out
