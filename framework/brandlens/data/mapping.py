"""Column mappings: turn a source format into the canonical events table.

A mapping renames columns, derives columns from SQL expressions over the source
columns, maps event-type values and sets how the file is read. Users pass one
with ``--mapping FILE.yaml``; plugins ship them as presets (``--preset NAME``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from brandlens.errors import UsageError
from brandlens.fileio import read_small_text


class ReadOptions(BaseModel):
    """How to read a CSV source (ignored for Parquet, JSON and DuckDB sources)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    header: bool = True
    delimiter: str | None = Field(
        None,
        min_length=1,
        max_length=1,
        pattern=r'^[^"\r\n]$',
        description="field separator, one character other than a quote or line break "
        "(default: comma, tab for .tsv)",
    )
    names: tuple[str, ...] | None = Field(
        None, description="the file's column names, in order, for a file without header"
    )

    @field_validator("delimiter")
    @classmethod
    def _one_plain_character(cls, v: str | None) -> str | None:
        """A quote, line break or NUL as separator makes every record ambiguous."""
        if v is not None and (len(v) != 1 or v in '"\r\n\x00'):
            raise ValueError(f"must be one character other than a quote or line break, got {v!r}")
        return v

    @field_validator("names")
    @classmethod
    def _distinct_names(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        """SQL column names are case-insensitive: 'ts' and 'TS' would be the same column."""
        if v is None:
            return v
        if any(not n.strip() for n in v):
            raise ValueError("column names must not be empty")
        seen: set[str] = set()
        for n in v:
            if n.lower() in seen:
                raise ValueError(f"column name {n!r} appears more than once")
            seen.add(n.lower())
        return v


class Mapping(BaseModel):
    """A mapping from a source format to the canonical ``events`` table.

    Plugins register named mappings (presets) from the ``brandlens_register_presets`` hook;
    users give one with ``--preset NAME`` or ``--mapping FILE.yaml``. Derived
    expressions are checked against an allow-list of SQL functions.

    Example::

        Mapping(
            description="a shop export",
            columns={"user_id": "buyer", "ts": "time", "brand": "brand_name"},
            derive={"amount": "price * qty"},
            event_types={"buy": "purchase", "remove_from_cart": None},
        )
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field("", description="what the source format is")
    read: ReadOptions = Field(ReadOptions(), description="how to read CSV sources")
    columns: dict[str, str] = Field(
        default_factory=dict, description="canonical column <- source column"
    )
    derive: dict[str, str] = Field(
        default_factory=dict,
        description="canonical column <- SQL expression (DuckDB) over source columns",
    )
    event_types: dict[str, str | None] = Field(
        default_factory=dict,
        description="source event_type value -> canonical type; null quarantines the row "
        "with reason excluded_by_mapping; unlisted values pass through unchanged",
    )
    ts_timezone: str | None = Field(
        None,
        description="time zone of ts values written without a UTC offset (default UTC), "
        "e.g. Asia/Shanghai for an export in Beijing time; a value with an offset or "
        "zone of its own is read as written",
    )
    _origin: str = PrivateAttr(default="mapping")

    @field_validator("event_types", mode="before")
    @classmethod
    def _whole_number_codes(cls, v: Any) -> Any:
        """Exports often code behaviours as numbers (``{1: product_view}``); YAML reads
        such a key as an integer, and the event_type column is text, so the key is its
        digits. Other non-text keys (1.5, true) stay errors: their text is a guess."""
        if not isinstance(v, dict):
            return v
        codes = {
            str(k) if isinstance(k, int) and not isinstance(k, bool) else k: t for k, t in v.items()
        }
        if len(codes) < len(v):
            twice = next(k for k in v if isinstance(k, int) and str(k) in v)
            raise ValueError(f"the value {twice} is given twice, as {twice} and as '{twice}'")
        return codes

    @field_validator("ts_timezone")
    @classmethod
    def _known_zone(cls, v: str | None) -> str | None:
        """A misspelt zone would otherwise fail every row's time, not the mapping."""
        if v is not None and not known_zone(v):
            raise ValueError(unknown_zone(v))
        return v

    @model_validator(mode="after")
    def _one_source_per_column(self) -> Mapping:
        """A column both renamed and derived has two sources, and which one wins is no
        rule a reader of the file could guess: one of them must go."""
        both = [c for c in self.columns if c in self.derive]
        if both:
            raise ValueError(f"column {both[0]!r} is given under both columns and derive; keep one")
        return self

    @property
    def origin(self) -> str:
        """Where the mapping came from (its file, or ``preset NAME``), for error messages."""
        return self._origin

    def labelled(self, origin: str) -> Mapping:
        """A copy whose errors name ``origin``."""
        copy = self.model_copy()
        copy._origin = origin
        return copy


def known_zone(zone: str) -> bool:
    """Whether the time-zone database knows ``zone`` (``Asia/Shanghai``, ``UTC``)."""
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def unknown_zone(zone: str) -> str:
    """The message for a zone the database does not know, with the zone it most likely
    means when one differs only in case (``utc``, ``asia/shanghai``)."""
    import zoneinfo

    folded = {z.lower(): z for z in zoneinfo.available_timezones()}
    meant = folded.get(zone.strip().lower())
    hint = f"did you mean {meant}?" if meant else "e.g. Asia/Shanghai, UTC"
    return f"unknown time zone {zone!r} ({hint})"


def check_zone(zone: str, what: str) -> str:
    """``zone`` if the time-zone database knows it; a one-line usage error otherwise."""
    if not known_zone(zone):
        raise UsageError(f"{what}: {unknown_zone(zone)}")
    return zone


def check_event_types(mapping: Mapping, vocabulary: Iterable[str]) -> None:
    """Every ``event_types`` target is a registered event type: a misspelt one
    (``product_vieww``) would quarantine every row it names as unknown_event_type,
    a data problem the mapping caused."""
    known = sorted(vocabulary)
    for value, target in mapping.event_types.items():
        if target is None or target in known:
            continue
        close = difflib.get_close_matches(target.lower(), known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else f" (one of: {', '.join(known)})"
        raise UsageError(
            f"{mapping.origin}: event_types maps {value!r} to {target!r}, which is not an "
            f"event type{hint}"
        )


def load_mapping(path: str | Path) -> Mapping:
    """Read a mapping YAML file; any problem is a one-line usage error."""
    from brandlens import yamlio as yaml

    p = Path(path)
    try:
        raw: Any = yaml.safe_load(read_small_text(p))
    except OSError as e:
        raise UsageError(f"{p}: cannot read mapping file ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        raise UsageError(
            f"{p}: mapping file is not UTF-8 text (byte {e.start}); is it a YAML file?"
        ) from None
    except yaml.YAMLError as e:
        raise UsageError(f"{p}: not valid YAML, {yaml.describe_error(e)}") from None
    try:
        return Mapping.model_validate(raw or {}).labelled(str(path))
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")  # pydantic's prefix
        where = f"mapping field {loc}" if loc else "mapping"  # a rule over several fields
        raise UsageError(f"{p}: {where}: {message}") from None
