"""YAML reading in one place: libyaml's safe loader when PyYAML has it.

Specs and presets are read on every command; the pure-Python parser took about half
a second of each start-up, libyaml a few milliseconds. Both are *safe* loaders.
"""

from __future__ import annotations

from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

YAMLError = yaml.YAMLError


def safe_load(text: str) -> Any:
    """Parse one YAML document with a safe loader (no arbitrary objects)."""
    return yaml.load(text, Loader=_LOADER)


def describe_error(e: yaml.YAMLError) -> str:
    """One line saying where a YAML document went wrong: ``line 3, column 12: …``.

    PyYAML's own message spans several lines and puts the position last; a user
    fixing a mapping by hand needs the position first.
    """
    mark = getattr(e, "problem_mark", None)
    problem = getattr(e, "problem", None) or getattr(e, "context", None)
    if mark is None or not problem:
        return " ".join(str(e).split()) or type(e).__name__
    where = f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    context = getattr(e, "context", None)
    context_mark = getattr(e, "context_mark", None)
    if context and context != problem:
        where += f" ({context}"
        if context_mark is not None and context_mark.line != mark.line:
            where += f" at line {context_mark.line + 1}"
        where += ")"
    return where
