"""The Python API's arguments, checked at the door.

A wrong type reached DuckDB, pathlib or difflib and came back as a TypeError from
deep inside them (``'int' object is not iterable``), or worse was taken for
something else: ``methodologies="fast"`` read as the methodologies f, a, s and t,
``strict="no"`` as true. Each argument is now checked before anything is opened:
a wrong type is a one-line ``UsageError`` naming the argument and what it takes.
A single name where a list of names is taken counts as that one name.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any

from brandlens.errors import UsageError


def _kind(value: object) -> str:
    return type(value).__name__


def _shown(value: object) -> str:
    """The value's type and, when short and on one line, its repr: a DataFrame's repr
    spans lines, and a list of a million items is megabytes."""
    shown = repr(value)
    if "\n" in shown or len(shown) > 60:
        return _kind(value)
    return f"{_kind(value)} {shown}"


def _numpy_bool(value: object) -> bool:
    """NumPy's own truth value (``df[c].any()`` gives one), which is not a bool."""
    return type(value).__module__ == "numpy" and type(value).__name__ in ("bool_", "bool")


def names(value: object, what: str) -> list[str] | None:
    """None (all), one name, or names: a list of texts; an empty list chooses nothing."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise UsageError(f"{what}: expected a name or a list of names, got {_kind(value)}")
    out = list(value)
    wrong = next((v for v in out if not isinstance(v, str)), None)
    if wrong is not None or (out and None in out):
        raise UsageError(f"{what}: expected names (texts), got {_shown(wrong)}")
    if not out:
        raise UsageError(f"{what}: an empty list chooses nothing; give None for all")
    return out


def name(value: object, what: str) -> str:
    """One name (a text)."""
    if not isinstance(value, str):
        raise UsageError(f"{what}: expected a name (a text), got {_shown(value)}")
    return value


def day(value: object, what: str = "as_of") -> str | date | None:
    """None, a date or its YYYY-MM-DD text; a datetime counts as its date (as written)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime) and value == value:  # pandas' NaT is not equal to itself
        return value.date()
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise UsageError(f"{what}: expected a date or YYYY-MM-DD text, got {_shown(value)}")


def baseline(value: object) -> str | None:
    """None, ``previous``, ``yoy`` or a date (as a date or its text)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, date):
        chosen = day(value, "baseline")
        assert isinstance(chosen, date)
        return chosen.isoformat()
    raise UsageError(f"baseline: expected previous, yoy or a date, got {_shown(value)}")


def params(value: object) -> dict[str, Any] | None:
    """None or a mapping of METHODOLOGY.NAME texts to values."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise UsageError(
            "params: expected a mapping such as {'fast.advancing_period_days': 14}, "
            f"got {_kind(value)}"
        )
    wrong = next((k for k in value if not isinstance(k, str)), None)
    if wrong is not None:
        raise UsageError(f"params: expected METHODOLOGY.NAME keys, got {_shown(wrong)}")
    # a generator is read once: as a list, every check and the run see the same values
    return {k: list(v) if isinstance(v, Iterator) else v for k, v in value.items()}


def text(value: object, what: str) -> str | None:
    """None or a text (a time zone, a preset's name, a currency)."""
    if value is not None and not isinstance(value, str):
        raise UsageError(f"{what}: expected a text, got {_shown(value)}")
    return value


def path(value: object, what: str, optional: bool = True) -> Any:
    """A file system path: a text or an os.PathLike (None where ``optional``)."""
    if value is None and optional:
        return None
    if not isinstance(value, str | os.PathLike):
        raise UsageError(f"{what}: expected a path, got {_shown(value)}")
    return value


def flag(value: object, what: str, optional: bool = False) -> bool | None:
    """True or False (or None where ``optional``): "no" is a text, not false."""
    if value is None and optional:
        return None
    if _numpy_bool(value):
        return bool(value)  # type: ignore[arg-type]
    if not isinstance(value, bool):
        raise UsageError(f"{what}: expected True or False, got {_shown(value)}")
    return value


def instance(value: object, what: str, kind: type) -> Any:
    """None or an instance of ``kind`` (an EngineConfig, say)."""
    if value is not None and not isinstance(value, kind):
        raise UsageError(f"{what}: expected {kind.__name__}, got {_kind(value)}")
    return value


def function(value: object, what: str) -> Any:
    """None or something to call (a progress callback)."""
    if value is not None and not callable(value):
        raise UsageError(f"{what}: expected a function, got {_shown(value)}")
    return value
