"""YAML reading in one place: libyaml's safe loader when PyYAML has it.

Specs and presets are read on every command; the pure-Python parser took about half
a second of each start-up, libyaml a few milliseconds. Both are *safe* loaders.
"""

from __future__ import annotations

from typing import Any

import yaml

_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

YAMLError = yaml.YAMLError


class _Loader(_BASE):  # type: ignore[misc,valid-type]
    """The safe loader, refusing a key given twice in one mapping: YAML keeps the last
    silently, so `columns: {ts: time, ts: uid}` read the wrong column without a word."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                again = key in seen
            except TypeError:  # an unhashable key: the base loader says so
                continue
            if not again:
                seen[key] = key_node.start_mark.line
            else:
                first = seen[key]
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"the key {key!r} is given twice (first at line {first + 1})",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


def safe_load(text: str) -> Any:
    """Parse one YAML document with a safe loader (no arbitrary objects; no key twice)."""
    return yaml.load(text, Loader=_Loader)


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
