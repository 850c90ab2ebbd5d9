"""The core's own plugin: the canonical event vocabulary and the built-in data presets.

Registered through the same hooks as any plugin, so the registry has one path.
"""

from __future__ import annotations

from importlib import resources

from brandlens import hookimpl
from brandlens.data.schema import CORE_EVENT_TYPES
from brandlens.plugin.hookspecs import RegisterEventType, RegisterPreset


@hookimpl
def brandlens_register_event_types(register: RegisterEventType) -> None:
    for name, description in CORE_EVENT_TYPES.items():
        register(name, description)


@hookimpl
def brandlens_register_presets(register: RegisterPreset) -> None:
    from brandlens import yamlio as yaml
    from brandlens.data.mapping import Mapping

    folder = resources.files("brandlens.data") / "presets"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            mapping = Mapping.model_validate(yaml.safe_load(entry.read_text(encoding="utf-8")))
            register(entry.name.removesuffix(".yaml"), mapping)
