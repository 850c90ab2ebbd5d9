"""brandlens: consumer-asset indicators from a brand's raw event log, on DuckDB.

The public Python API mirrors the CLI::

    import brandlens
    result = brandlens.compute("data/", as_of="2025-06-30", methodologies=["fast"])
    print(result.model_dump_json(indent=2))

Heavy modules (duckdb, sqlglot) are imported lazily so that ``import brandlens``
and ``brandlens --help`` stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("brandlens")
"""Decorator for plugin hook implementations: ``@brandlens.hookimpl``."""

if TYPE_CHECKING:  # pragma: no cover
    from brandlens.api import compare, compute, entities, funnel, report, validate

__all__ = [
    "__version__",
    "compare",
    "compute",
    "entities",
    "funnel",
    "hookimpl",
    "report",
    "validate",
]


def __getattr__(name: str) -> Any:
    if name in {"compute", "compare", "entities", "funnel", "report", "validate"}:
        from brandlens import api

        return getattr(api, name)
    raise AttributeError(f"module 'brandlens' has no attribute {name!r}")
