"""Column mappings: turn a source format into the canonical events table.

A mapping renames columns, derives columns from SQL expressions over the source
columns, maps event-type values and sets how the file is read. Users pass one
with ``--mapping FILE.yaml``; plugins ship them as presets (``--preset NAME``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from brandlens.errors import UsageError


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


class Mapping(BaseModel):
    """A mapping from a source format to the canonical ``events`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    read: ReadOptions = ReadOptions()
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
    _origin: str = PrivateAttr(default="mapping")

    @property
    def origin(self) -> str:
        """Where the mapping came from (its file, or ``preset NAME``), for error messages."""
        return self._origin

    def labelled(self, origin: str) -> Mapping:
        """A copy whose errors name ``origin``."""
        copy = self.model_copy()
        copy._origin = origin
        return copy


def load_mapping(path: str | Path) -> Mapping:
    """Read a mapping YAML file; any problem is a one-line usage error."""
    import yaml

    p = Path(path)
    try:
        raw: Any = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"{p}: cannot read mapping file ({e.strerror})") from None
    except yaml.YAMLError as e:
        raise UsageError(f"{p}: not valid YAML ({str(e).splitlines()[0]})") from None
    try:
        return Mapping.model_validate(raw or {}).labelled(str(path))
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise UsageError(f"{p}: mapping field {loc}: {err['msg']}") from None
