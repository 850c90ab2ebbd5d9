"""Published benchmarks: a brand placed among figures a platform published.

A benchmark file (CSV or YAML; docs/comparing.md documents the format and
docs/benchmarks-example.csv is an example) gives, per indicator and category,
the 25th, 50th and 75th percentiles and the top-10% threshold, with the source.
A category of ``*`` (or empty) applies to every category. Values are in the
indicator's own unit (a ratio as 0.35, not 35%).
"""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Mapping
from itertools import pairwise
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from brandlens.analysis.model import BenchmarkCell, ComparisonColumn
from brandlens.engine.result import significant
from brandlens.errors import UsageError
from brandlens.fileio import read_small_text

Number = int | float


class BenchmarkRow(BaseModel):
    """One line of a benchmark file."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    indicator: str
    category: str = "*"
    p25: float | None = None
    p50: float | None = None
    p75: float | None = None
    top10: float | None = None
    source: str = ""

    @field_validator("indicator")
    @classmethod
    def _id_in_any_case(cls, value: str) -> str:
        """Indicator ids are lower case; FAST.thriving names fast.thriving, as in explain."""
        return value.strip().lower()

    @field_validator("p25", "p50", "p75", "top10", mode="before")
    @classmethod
    def _not_a_truth_value(cls, value: object) -> object:
        """YAML reads ``yes`` as true, which pydantic would take as 1.0."""
        if isinstance(value, bool):
            raise ValueError("a number, not a truth value")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> BenchmarkRow:
        names = ("p25", "p50", "p75", "top10")
        given = [(n, v) for n in names if (v := getattr(self, n)) is not None]
        if not given:  # an entry placing no brand anywhere is a mistake, not a benchmark
            raise ValueError("no figure: give at least one of p25, p50, p75 and top10")
        for (a, x), (b, y) in pairwise(given):
            if x > y:  # bands are read on the value axis: p25 <= p50 <= p75 <= top10
                raise ValueError(f"{a} {x:g} is above {b} {y:g}; the figures must not decrease")
        return self


SUFFIXES = (".csv", ".yaml", ".yml")
"""The names a benchmark file may have: its format is read from them."""


def load(path: str | Path) -> list[BenchmarkRow]:
    """Read a benchmark file (.csv, .yaml or .yml); a bad file is a usage error.

    Every entry must count: a file with none, a line with more fields than the header,
    or two entries for one (indicator, category) (which one holds?) is refused."""
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"--benchmark {path}: a folder, not a file")
    if p.suffix.lower() not in SUFFIXES:
        raise UsageError(
            f"--benchmark {path}: name the file .csv, .yaml or .yml (its name says its format)"
        )
    try:
        text = read_small_text(p).removeprefix("\ufeff")  # Excel's "CSV UTF-8" starts so
    except OSError as e:  # its strerror alone: "[Errno 27] ..." is no sentence
        raise UsageError(f"--benchmark {path}: cannot read ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        raise UsageError(f"--benchmark {path}: cannot read ({e})") from None
    if p.suffix.lower() in (".yaml", ".yml"):
        from brandlens.yamlio import YAMLError, describe_error, safe_load

        try:
            doc = safe_load(text)
        except YAMLError as e:
            raise UsageError(f"--benchmark {path}: not valid YAML, {describe_error(e)}") from None
        if isinstance(doc, dict):
            doc = doc.get("benchmarks")
        if not isinstance(doc, list):
            raise UsageError(f"--benchmark {path}: expected a list of benchmarks")
        raw = doc
    else:
        raw = _csv_entries(text, path)
    if not raw:
        raise UsageError(f"--benchmark {path}: no entries")
    out = []
    for i, item in enumerate(raw, start=1):
        try:
            row = BenchmarkRow.model_validate(
                {k: v for k, v in item.items() if v is not None} if isinstance(item, dict) else item
            )
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(str(x) for x in err["loc"])
            where = f"{where}: " if where else ""
            message = err["msg"].removeprefix("Value error, ")
            raise UsageError(f"--benchmark {path}: entry {i}: {where}{message}") from None
        out.append(row.model_copy(update={"category": row.category or "*"}))
    first: dict[tuple[str, str], int] = {}
    for i, row in enumerate(out, start=1):
        j = first.setdefault((row.indicator, row.category), i)
        if j != i:
            raise UsageError(
                f"--benchmark {path}: entries {j} and {i} both give {row.indicator} in "
                f"category {row.category!r}; keep one"
            )
    return out


def _csv_entries(text: str, path: str | Path) -> list[dict[str, str | None]]:
    """A benchmark CSV's entries (an empty field as None). A quote that never closes is
    refused: read as Python's csv reads it, the rest of the file became one field, said
    as "p25: not a number". Anything else reads as before (a space after a closing
    quote, ``"1" ,2``, stays part of the field, as Excel and Python read it)."""
    try:  # strict reading, only to find a quote left open
        list(csv.reader(io.StringIO(text), strict=True))
    except csv.Error as e:
        if "unexpected end of data" in str(e):
            raise UsageError(f"--benchmark {path}: a quote that never closes") from None
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:  # DictReader would keep the last of the two without a word
        raise UsageError(f"--benchmark {path}: the header names {', '.join(twice)} twice; keep one")
    if header and "indicator" not in header:  # it would fail every entry alike
        raise UsageError(
            f"--benchmark {path}: the header has no indicator column (it names: "
            f"{', '.join(header)})"
        )
    raw = []
    for i, row in enumerate(reader, start=1):
        if None in row:  # DictReader keeps the fields past the header under None
            raise UsageError(f"--benchmark {path}: entry {i}: more fields than the header names")
        raw.append({k: (v if v != "" else None) for k, v in row.items()})
    return raw


def check_categories(rows: list[BenchmarkRow], known: set[str], path: str | Path) -> None:
    """Every entry's category (other than ``*``) is one the data has purchases in: a
    misspelt one (``Snacks`` for ``snacks``) would place no brand and show nothing, as a
    misspelt ``--category`` would, which is refused alike."""
    for i, row in enumerate(rows, start=1):
        if row.category == "*" or row.category in known:
            continue
        close = [c for c in sorted(known) if c.lower() == row.category.lower()]
        close += [c for c in difflib.get_close_matches(row.category, sorted(known), n=3)]
        hint = f"; did you mean {', '.join(dict.fromkeys(close))}?" if close else ""
        raise UsageError(
            f"--benchmark {path}: entry {i}: no purchases in category {row.category!r}{hint} "
            f"(categories: {', '.join(sorted(known)) or 'none'})"
        )


def check_indicators(
    rows: list[BenchmarkRow], known: set[str], path: str | Path, headline: set[str] | None = None
) -> None:
    """Every entry names an installed indicator, and one a comparison shows (a headline
    indicator, ``headline``): a misspelt or other one would silently show nothing."""
    for i, row in enumerate(rows, start=1):
        if row.indicator not in known:
            close = difflib.get_close_matches(row.indicator, sorted(known), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UsageError(
                f"--benchmark {path}: entry {i}: no installed methodology has indicator "
                f"{row.indicator!r}{hint}"
            )
        if headline is not None and row.indicator not in headline:
            raise UsageError(
                f"--benchmark {path}: entry {i}: {row.indicator} is not a headline indicator, "
                "and a comparison places brands on headline indicators only (the headline "
                "column of brandlens indicators)"
            )


def band(value: Number, row: BenchmarkRow) -> str | None:
    """Where ``value`` lies among the published thresholds (on the value axis)."""
    cuts = [("p25", row.p25), ("p50", row.p50), ("p75", row.p75), ("top10", row.top10)]
    known = [(n, c) for n, c in cuts if c is not None]
    if not known:
        return None
    below = "below " + known[0][0]
    for (name, cut), (nxt, _) in zip(known, [*known[1:], ("", None)], strict=True):
        if value < cut:
            return below
        # at or above the highest figure given: "top10" is a band of its own; "p50" alone
        # would read as "at the median"
        below = f"{name}-{nxt}" if nxt else (name if name == "top10" else f"{name} and above")
    return below


def cells(
    rows: list[BenchmarkRow],
    columns: list[ComparisonColumn],
    values: Mapping[str, Mapping[str, Number | None]],
    placed: Mapping[str, str],
    shown: list[str],
) -> list[BenchmarkCell]:
    """Each shown brand against the benchmark of its category (or of every category)."""
    by_key = {(r.indicator, r.category): r for r in rows}
    out = []
    for col in columns:
        for brand in shown:
            category = placed.get(brand)
            row = by_key.get((col.indicator, category or "")) or by_key.get((col.indicator, "*"))
            if row is None:
                continue
            value = values.get(brand, {}).get(col.indicator)
            out.append(
                BenchmarkCell(
                    brand=brand,
                    indicator=col.indicator,
                    category=row.category,
                    value=value,
                    p25=row.p25,
                    p50=row.p50,
                    p75=row.p75,
                    top10=row.top10,
                    band=None if value is None else band(value, row),
                    index=(
                        None
                        if value is None or not row.p50 or row.p50 <= 0
                        else significant(value / row.p50 * 100)
                    ),
                    source=row.source,
                )
            )
    return out
