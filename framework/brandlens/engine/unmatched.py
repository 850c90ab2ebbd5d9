"""Parameter values that name nothing in the data: said, not counted as zero.

A parameter declared ``json_schema_extra={"vocabulary": "categories"}`` (DREAM's
accessory and durable categories) names values of an open column. A name no event
carries (an English default against a log whose categories are written in Chinese, a
typo, another capitalisation) makes every indicator that filters on it count nothing,
and that zero would read like a fact about the brands. The run reports such values
(those no event up to the as-of date has) with the indicators that read them, the
data's most common values and a likely intended one, beside its results.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from pydantic import BaseModel

from brandlens.engine.result import UnmatchedValues
from brandlens.plugin.methodology import vocabulary_values
from brandlens.plugin.sqlcheck import quote_ident

# A declared vocabulary -> the canonical column whose values it names. Event types are
# a closed vocabulary checked when parameters are parsed (an unknown one is an error).
DATA_VOCABULARIES = {"categories": "category"}

MOST_COMMON = 5  # values of the column shown beside the unmatched ones


def unmatched_values(
    read: Callable[[str, dict[str, Any]], list[tuple[Any, ...]]],
    parameters: Mapping[str, BaseModel],
    readers: Mapping[str, Mapping[str, list[str]]],
    as_of: date,
) -> list[UnmatchedValues]:
    """The values of data-vocabulary parameters that no event up to ``as_of`` has, per
    (methodology, parameter), in methodology then parameter order.

    ``readers`` gives, per methodology, each parameter's indicators in the run (its
    spec's ``parameters`` lists): a parameter no indicator of the run reads is not
    checked, so a comparison of headline indicators says nothing about one only a
    detail reads. One grouping per named column.
    """
    named = [
        (method, name, column, values, readers.get(method, {}).get(name, []))
        for method, name, column, values in _named(parameters)
    ]
    named = [n for n in named if n[4] and n[3]]
    if not named:
        return []
    columns = sorted({column for _, _, column, _, _ in named})
    counts = {c: _value_counts(read, c, as_of) for c in columns}
    out = []
    for method, name, column, values, indicators in named:
        have = counts[column]
        missing = [v for v in dict.fromkeys(values) if v not in have]
        if not missing:
            continue
        common = sorted(have, key=lambda v: (-have[v], v))[:MOST_COMMON]
        guesses = {v: g for v in missing if (g := likely_meant(v, have)) is not None}
        out.append(
            UnmatchedValues(
                methodology=method,
                parameter=name,
                column=column,
                values=missing,
                indicators=indicators,
                most_common=common,
                did_you_mean=guesses,
            )
        )
    return out


def _named(parameters: Mapping[str, BaseModel]) -> Any:
    for method in sorted(parameters):
        for vocabulary, column in DATA_VOCABULARIES.items():
            named = vocabulary_values(parameters[method], vocabulary)
            for name in sorted(named):
                yield method, name, column, named[name]


def _value_counts(
    read: Callable[[str, dict[str, Any]], list[tuple[Any, ...]]], column: str, as_of: date
) -> dict[str, int]:
    col = quote_ident(column)
    sql = (
        f"SELECT {col}, count(*) FROM events WHERE {col} IS NOT NULL "
        f"AND local_date <= CAST($as_of AS DATE) GROUP BY {col}"
    )
    return {str(v): int(n) for v, n in read(sql, {"as_of": as_of})}


def likely_meant(value: str, have: Mapping[str, int]) -> str | None:
    """The data's value ``value`` most likely stands for: the same text apart from case,
    width, spaces, hyphens and underscores (``Phone Accessories`` for
    ``phone_accessories``), else the closest spelling by difflib's ratio (at least
    0.8); ties go to the value with more events, then the first alphabetically."""
    key = _folded(value)
    same = [v for v in have if _folded(v) == key]
    if same:
        return min(same, key=lambda v: (-have[v], v))
    close = difflib.get_close_matches(key, {_folded(v): v for v in have}, n=1, cutoff=0.8)
    if not close:
        return None
    return min((v for v in have if _folded(v) == close[0]), key=lambda v: (-have[v], v))


def _folded(text: str) -> str:
    """Case, full-width forms and separators folded away: what two spellings of one
    name usually differ by."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if not (ch.isspace() or ch in "-_"))
