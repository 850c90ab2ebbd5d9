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
