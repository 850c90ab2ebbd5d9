"""The result contract: pydantic models behind every JSON, CSV and table output.

Same input and parameters give byte-identical JSON: rows are sorted, floats are
rounded to 12 significant digits, and nothing time- or machine-dependent is
included. Across CPUs, fitted CLV values can differ in trailing digits (numpy's and
OpenBLAS's CPU-specific kernels; docs/methodologies/goal.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

Number = int | float


def significant(x: float) -> float:
    """``x`` at 12 significant digits, as every float a result holds, and ``-0.0`` as
    ``0.0``: a decimal form short enough to be the same on every machine."""
    rounded = float(f"{x:.12g}")
    return 0.0 if rounded == 0 else rounded


class DatasetInfo(BaseModel):
    """Where the data came from and how much of it was usable."""

    source: str
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    quarantined_by_reason: dict[str, int] = Field(
        default_factory=dict, description="events quarantined, per reason code"
    )
    quarantined_columns: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description="events quarantined per reason code, by the column it is about (most first)",
    )
    tables: list[str] = Field(default_factory=list, description="canonical tables present")
    identical_rows: int = Field(
        0, description="accepted events without an event_id that repeat an earlier row exactly"
    )
    identical_spend_rows: int = Field(
        0,
        description="accepted spend rows that repeat an earlier row exactly: summed as two "
        "costs, so a day exported twice counts twice",
    )
    ts_timezone: str = Field(
        "UTC", description="the zone event times written without a UTC offset were read in"
    )


class ResultRow(BaseModel):
    """One value of one indicator for one brand (and breakdown key)."""

    methodology: str
    indicator: str
    brand: str
    dimension: str | None
    key: str | None
    value: Number | None
    numerator: Number | None
    denominator: Number | None
    unit: str


_NUMERIC = {"value", "numerator", "denominator"}


class ErrorEntry(BaseModel):
    """An indicator that could not be computed; the rest of the run still is."""

    methodology: str
    indicator: str
    brand: str | None
    message: str


class NotApplicable(BaseModel):
    """An indicator that needs an optional table or column the data lacks: skipped, not failed."""

    methodology: str
    indicator: str
    reason: str


class ShortHistory(BaseModel):
    """A methodology whose indicators read further back than the data goes: what they
    count before ``data_from`` is missing, not zero."""

    methodology: str
    reads_from: str = Field(description="the first local date its indicators read")
    data_from: str = Field(description="the first local date of an event in the data")
    days: int = Field(description="days up to as_of (inclusive) its indicators read")


class UnmatchedValues(BaseModel):
    """Values a parameter names that no event has (it is declared to name values of
    ``column``): indicators filtering on them count nothing for them, which is not a
    fact about the brands."""

    methodology: str
    parameter: str
    column: str = Field(description="the canonical column whose values the parameter names")
    values: list[str] = Field(
        description="the parameter's values no event up to as_of has, as given"
    )
    indicators: list[str] = Field(
        default_factory=list,
        description="the run's indicators that read the parameter (not those not applicable)",
    )
    most_common: list[str] = Field(
        description="up to five of the column's values with the most events, most first"
    )
    did_you_mean: dict[str, str] = Field(
        default_factory=dict,
        description="unmatched value -> the data's value it most likely stands for "
        "(the same but for case, width, spaces, hyphens and underscores, or a close spelling)",
    )


class LadderCounts(BaseModel):
    """One methodology's ladders counted in the run that built them: what a report's
    funnels and flows, and ``compare --funnel``, read instead of building them again."""

    counts: list[tuple[str, int, str, str, int]] = Field(
        description="(ladder, days_before, brand, stage, users) at as_of and ``back`` days before"
    )
    flows: list[tuple[str, str, str, str, int]] = Field(
        description="(ladder, brand, from stage, to stage, users) between the two snapshots, "
        "'none' being no stage; empty when ``back`` is 0"
    )


class Result(BaseModel):
    """Everything ``brandlens compute`` returns."""

    brandlens_version: str
    as_of: str
    timezone: str
    dataset: DatasetInfo
    parameters: dict[str, dict[str, Any]]
    results: list[ResultRow]
    errors: list[ErrorEntry]
    not_applicable: list[NotApplicable] = Field(
        default_factory=list,
        description="indicators skipped because optional data is absent, sorted by indicator",
    )
    short_history: list[ShortHistory] = Field(
        default_factory=list,
        description="methodologies that read further back than the data goes, by name",
    )
    unmatched_values: list[UnmatchedValues] = Field(
        default_factory=list,
        description="parameter values naming categories (or other open values) no event "
        "has, by methodology and parameter",
    )
    key_order: dict[str, list[str]] = Field(
        default_factory=dict,
        description="indicator -> its declared keys in their order (a ladder's stages lowest "
        "first); rows of these indicators are listed in this order, not alphabetically",
    )
    ladders: SkipJsonSchema[dict[str, LadderCounts]] = Field(
        default_factory=dict,
        exclude=True,
        description="methodology -> its ladders' counts, when the caller asked for them "
        "(``Dataset.compute(ladder_counts=...)``); never part of the JSON",
    )

    def restricted(self, keep: Callable[[str, str], bool]) -> Result:
        """The rows, errors, skips and key orders of the indicators for which
        ``keep(methodology, indicator)`` holds; the rest of the result as it is."""
        return self.model_copy(
            update={
                "results": [r for r in self.results if keep(r.methodology, r.indicator)],
                "errors": [e for e in self.errors if keep(e.methodology, e.indicator)],
                "not_applicable": [
                    n for n in self.not_applicable if keep(n.methodology, n.indicator)
                ],
                "short_history": [
                    h
                    for h in self.short_history
                    if any(keep(h.methodology, i) for i in self._indicators_of(h.methodology))
                ],
                "unmatched_values": [
                    u.model_copy(update={"indicators": kept})
                    for u in self.unmatched_values
                    if (kept := [i for i in u.indicators if keep(u.methodology, i)])
                ],
                "key_order": {
                    i: keys for i, keys in self.key_order.items() if keep(i.partition(".")[0], i)
                },
            }
        )

    def _indicators_of(self, methodology: str) -> set[str]:
        """The indicator ids of ``methodology`` this result holds anything of."""
        return {
            x.indicator
            for x in [*self.results, *self.errors, *self.not_applicable]
            if x.methodology == methodology
        }

    def to_pandas(self) -> Any:
        """The result rows as a pandas DataFrame (pandas is optional: ``pip install pandas``)."""
        import pandas as pd

        return pd.DataFrame.from_records(
            [r.model_dump() for r in self.results], columns=list(ResultRow.model_fields)
        )

    def to_arrow(self) -> Any:
        """The result rows as a pyarrow Table (value, numerator and denominator as floats)."""
        import pyarrow as pa

        text, number = pa.string(), pa.float64()
        schema = pa.schema([(n, number if n in _NUMERIC else text) for n in ResultRow.model_fields])
        return pa.Table.from_pylist([r.model_dump() for r in self.results], schema=schema)

    def value(self, indicator: str, brand: str, key: str | None = None) -> Number | None:
        """Convenience lookup: the value of one indicator for one brand (and key)."""
        for row in self.results:
            if row.indicator == indicator and row.brand == brand and row.key == key:
                return row.value
        raise KeyError((indicator, brand, key))


class EntityListing(BaseModel):
    """Everything ``brandlens entities`` returns: one entity table of one methodology.

    Rows are the entities (products, users, ...) of the chosen brands, one per
    (brand, key), sorted by brand, the table's order and its key; values are
    numbers, text or ISO dates. ``compute`` never includes them.
    """

    brandlens_version: str
    as_of: str
    timezone: str
    dataset: DatasetInfo
    methodology: str
    table: str
    title: str
    description: str = ""
    key: list[str]
    parameters: dict[str, Any]
    brands: list[str] = Field(description="the brands listed")
    columns: list[str]
    rows: list[dict[str, Any]]


class ValueCount(BaseModel):
    """One of the source values most often quarantined for a reason, as written."""

    column: str
    value: str
    rows: int


class ReasonCount(BaseModel):
    """How many rows of a table were quarantined for one reason, with examples."""

    table: str
    reason: str
    count: int
    columns: dict[str, int] = Field(default_factory=dict)
    """Rows per column the reason is about, most first (none for malformed CSV lines)."""
    values: list[ValueCount] = Field(default_factory=list)
    """The values of those columns quarantined most often (at most TOP_VALUES), most
    first: ``'收藏' 800`` for an unmapped event type, ``'¥1,299.00' 300`` for amounts."""
    examples: list[dict[str, Any]]


class TableReport(BaseModel):
    """Row counts of one canonical table: read = accepted + quarantined."""

    table: str
    source: str
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    identical_rows: int = Field(
        0,
        description="accepted rows that repeat an earlier row exactly: events without an "
        "event_id, kept as events of their own since nothing tells them from copies, and "
        "spend rows, summed as two costs; 0 for the other tables (they have keys)",
    )


class ValidationReport(BaseModel):
    """What ``brandlens validate`` returns."""

    source: str
    timezone: str
    """The zone whose local dates windows count in."""
    ts_timezone: str = "UTC"
    """The zone event times written without a UTC offset were read in."""
    naive_ts_as_utc: bool = False
    """Some event times carry no UTC offset and no zone was named for them, so they were
    read as UTC: right for a log in UTC, 8 hours off for one in Beijing time."""
    tables: list[TableReport]
    reasons: list[ReasonCount]

    @property
    def events(self) -> TableReport:
        return next(t for t in self.tables if t.table == "events")

    @property
    def rows_quarantined(self) -> int:
        return sum(t.rows_quarantined for t in self.tables)

    @property
    def bad_reasons(self) -> list[ReasonCount]:
        """The reasons that say something is wrong: all but rows a mapping excludes on
        purpose (what ``--strict`` refuses)."""
        return [r for r in self.reasons if r.reason not in DELIBERATE_REASONS]

    @property
    def rows_bad(self) -> int:
        """Quarantined rows that ``--strict`` refuses (:attr:`bad_reasons`)."""
        return sum(r.count for r in self.bad_reasons)

    def strict_failure(self) -> str:
        """The one line ``--strict`` fails with: the source, the bad rows, and their
        reasons by table and column (``events.missing_amount 1 (amount 1)``)."""
        counts = ", ".join(
            f"{r.table}.{r.reason} {r.count}"
            + (f" ({', '.join(f'{c} {n}' for c, n in r.columns.items())})" if r.columns else "")
            for r in self.bad_reasons
        )
        return f"{self.source}: {self.rows_bad} bad row(s) under --strict ({counts})"


DELIBERATE_REASONS = frozenset({"excluded_by_mapping"})
"""Reasons a user asked for: a mapping that maps an event type to null quarantines its
rows so that they are counted, not because anything in them is wrong."""


class LoadReport(ValidationReport):
    """What ``brandlens load`` returns: the validation, and the dataset file it wrote."""

    dataset: str = Field(description="the dataset file written")
    clustered: bool = Field(
        description="events written month by month, each month by user (--cluster)"
    )
    same_user_share: float | None = Field(
        description="share of sampled consecutive events of one user, as read: "
        "low for a log in time order, high for one written user by user"
    )
    months: int = Field(0, description="months written one by one when clustered")


class CacheReport(BaseModel):
    """What ``brandlens cache`` says: where validated datasets are kept and how much."""

    path: str
    enabled: bool
    entries: int
    bytes: int
    max_bytes: int
    removed: int = Field(0, description="entries removed by this command")


class PropertyResult(BaseModel):
    """One cell of the verify table: an indicator x a property."""

    indicator: str
    property: str
    status: str  # "pass" | "fail" | "unexercised" (never failed, but never exercised either)
    message: str = ""
    left: Any = None
    right: Any = None
    counterexample: str = ""


class MethodologyVerification(BaseModel):
    methodology: str
    plugin: str
    examples: int
    probes: int = 0  # fixed probe logs checked before the random ones
    seed: int
    spec_errors: list[str]
    results: list[PropertyResult]

    @property
    def passed(self) -> bool:
        return not self.spec_errors and all(r.status == "pass" for r in self.results)


class VerifyReport(BaseModel):
    """Everything ``brandlens verify`` returns."""

    methodologies: list[MethodologyVerification]

    @property
    def passed(self) -> bool:
        return all(m.passed for m in self.methodologies)
