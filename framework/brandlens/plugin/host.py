"""Plugin discovery, isolation and the registry built from plugin hooks.

Built-in methodologies are ordinary plugins found through the ``brandlens``
entry-point group, exactly like third-party ones. Each entry point is loaded,
registered and called in isolation (sqlfluff style): a plugin that fails to
import, implements an unknown hook, or registers something invalid is listed by
``brandlens plugins`` with its error and never takes the tool down.

Environment:
  BRANDLENS_LOAD_PLUGINS     comma list: load only these entry points (names or distributions)
  BRANDLENS_DISABLE_PLUGINS  comma list: skip these
  BRANDLENS_TRACE_PLUGINS=1  print every hook call to stderr
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, replace
from importlib import import_module, metadata
from pathlib import Path
from typing import Any

import pluggy

from brandlens.errors import BrandlensError
from brandlens.plugin import hookspecs

GROUP = "brandlens"
CORE_PLUGINS = ("brandlens.plugin.core",)
"""Core modules registered as plugins: the core vocabulary and data presets."""


@dataclass
class PluginInfo:
    """What ``brandlens plugins`` reports about one plugin."""

    name: str
    distribution: str | None = None
    version: str | None = None
    origin: str = "entry point"  # "core", "entry point" or "registered"
    hooks: list[str] = field(default_factory=list)
    methodologies: list[str] = field(default_factory=list)
    event_types: list[str] = field(default_factory=list)
    presets: list[str] = field(default_factory=list)
    report_sections: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def failures(self) -> list[str]:
        """The errors that kept it from loading or registering (spec notes aside), each
        on one line."""
        return [" ".join(e.split()) for e in self.errors if not e.startswith(SPEC_NOTE)]

    def spec_mismatches(self) -> list[str]:
        """Where its spec and its code disagree (an indicator without an entry, an entry
        without an indicator, a parameter's default); registering without a spec, a choice
        ``brandlens plugins`` shows, is not one."""
        return [
            e.removeprefix(SPEC_NOTE)
            for e in self.errors
            if e.startswith(SPEC_NOTE) and not e.endswith("registered without a spec")
        ]


SPEC_NOTE = "spec: "
"""The prefix of a PluginInfo error that is about its spec: the plugin still registered."""


@dataclass
class Registry:
    """Everything the plugins registered, validated."""

    methodologies: dict[str, Any]  # name -> CheckedMethodology
    event_types: dict[str, str]
    presets: dict[str, Any]  # name -> Mapping
    plugins: list[PluginInfo]
    report_builders: dict[str, Any] = field(default_factory=dict)  # methodology -> builder

    def methodology_name(self, given: str) -> str | None:
        """The registered methodology ``given`` names: itself, or as printed in another
        case or with dots, dashes or spaces (``FAST``, ``A.R.G.O``: registered names are
        lower case by rule); None when it names none."""
        if given in self.methodologies:
            return given
        folded = "".join(ch for ch in given if ch not in ".- ").lower()
        return folded if folded in self.methodologies else None

    def close_methodologies(self, given: str) -> list[str]:
        """Registered names a mistyped ``given`` may have meant (``fats`` -> ``fast``)."""
        import difflib

        return difflib.get_close_matches(given.lower(), list(self.methodologies), n=3, cutoff=0.6)

    def failed_plugins(self) -> list[PluginInfo]:
        """Installed plugins that failed to load or register: none of their
        methodologies is in ``methodologies``."""
        return [p for p in self.plugins if p.failures()]

    def unregistered(self, name: str) -> str:
        """Why ``name`` may be missing, for a message that names it: the reason of the one
        plugin that failed and may have been meant, else the failed plugins' names."""
        broken = self.failed_plugins()
        named = [p for p in broken if p.name == name or name in p.name] or broken
        if len(named) == 1:  # the reason itself: the message authors meet first
            return f"; plugin {named[0].name} did not register: {named[0].failures()[0]}"
        if broken:
            return (
                f"; plugin(s) that failed to load or register: "
                f"{', '.join(p.name for p in broken)} (`brandlens plugins` says why)"
            )
        return ""


def _unknown_event_types(spec: Any, known: dict[str, str]) -> list[str]:
    """Event types a spec's properties add, list or except that no plugin registered: verify
    said so only when it ran (``monotone: {add: {event_type: purchace}}``)."""
    from brandlens.specs.spec import event_types_named

    errors = []
    for ind in spec.indicators:
        for p in ind.properties:
            for t in event_types_named(p):
                if t not in known:
                    errors.append(
                        f"{ind.id}: {p.kind} names event type {t!r}, not registered; "
                        "verify skips that property"
                    )
    return errors


def _one_line(e: BaseException) -> str:
    """An exception as one line: a pydantic error as its model, field and message (not
    the multi-line text with a documentation link), anything else with spaces for its
    line breaks."""
    from pydantic import ValidationError

    if isinstance(e, ValidationError) and e.errors():
        first = e.errors()[0]
        field = ".".join(str(x) for x in first["loc"]) or "value"
        more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
        return f"invalid {e.title} {field}: {first['msg']}{more}"
    return f"{type(e).__name__}: {' '.join(str(e).split())}"


def _registration_problem(e: BaseException) -> str:
    """pluggy's refusal of a hook implementation, in brandlens' words when it is the
    usual slip (a parameter named otherwise than the hookspec's ``register``)."""
    import re

    text = " ".join(str(e).split())
    wrong = re.search(r"for hook '(\w+)' hookimpl definition: \w+\(([^)]*)\) Argument", text)
    if wrong:
        return f"{wrong.group(1)} must take one parameter named register, not ({wrong.group(2)})"
    return text


def _env_list(name: str) -> set[str] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return {p.strip() for p in raw.split(",") if p.strip()}


class PluginHost:
    """Owns the pluggy manager; loads lazily, rebuilds the registry on change."""

    def __init__(self) -> None:
        self._pm: pluggy.PluginManager | None = None
        self._infos: dict[str, PluginInfo] = {}
        self._registry: Registry | None = None

    # ---- loading -------------------------------------------------------
    @property
    def pm(self) -> pluggy.PluginManager:
        if self._pm is None:
            self._load()
        assert self._pm is not None
        return self._pm

    def _load(self) -> None:
        pm = pluggy.PluginManager(GROUP)
        pm.add_hookspecs(hookspecs)
        self._pm = pm
        if os.environ.get("BRANDLENS_TRACE_PLUGINS") == "1":
            pm.add_hookcall_monitoring(_trace_before, _trace_after)
        for mod_name in CORE_PLUGINS:
            self._add(import_module(mod_name), PluginInfo(name=mod_name, origin="core"))
        only = _env_list("BRANDLENS_LOAD_PLUGINS")
        disabled = _env_list("BRANDLENS_DISABLE_PLUGINS") or set()
        # Two distributions may name an entry point alike (a plugin scaffolded as
        # ``fast``, say); brandlens' own loads first, and the other is reported, not run.
        eps = sorted(metadata.entry_points(group=GROUP), key=_entry_point_order)
        for ep in eps:
            dist = ep.dist.name if ep.dist else None
            names = {ep.name} | ({dist} if dist else set())
            if only is not None and not names & only:
                continue
            if names & disabled:
                continue
            info = PluginInfo(
                name=ep.name, distribution=dist, version=ep.dist.version if ep.dist else None
            )
            held = self._infos.get(ep.name)
            if held is not None:
                info.name = f"{ep.name} ({dist or ep.value})"
                info.errors.append(
                    f"failed to load: the plugin name {ep.name!r} is taken by "
                    f"{held.distribution or held.name}; rename this entry point "
                    f"(in its pyproject.toml, [project.entry-points.brandlens])"
                )
                self._infos[info.name] = info
                continue
            try:
                obj = ep.load()
            except Exception as e:  # isolation: any import error is reported, not raised
                info.errors.append(f"failed to load {ep.value}: {_one_line(e)}")
                self._infos[info.name] = info
                continue
            self._add(obj, info)

    def _add(self, obj: Any, info: PluginInfo) -> None:
        pm = self.pm
        if info.name in self._infos and not self._infos[info.name].errors:
            raise BrandlensError(f"a plugin named {info.name!r} is already registered")
        try:
            pm.register(obj, name=info.name)
        except Exception as e:
            info.errors.append(f"failed to register: {_registration_problem(e)}")
            self._infos[info.name] = info
            return
        callers = pm.get_hookcallers(obj) or []
        unknown = [c.name for c in callers if not c.has_spec()]
        if unknown:  # check_pending, per plugin: a misspelled hook is an error, not a no-op
            pm.unregister(obj)
            info.errors.append(f"implements unknown hook(s): {', '.join(sorted(unknown))}")
        else:
            info.hooks = sorted(c.name for c in callers)
        self._infos[info.name] = info

    # ---- test and embedding API -----------------------------------------
    def register(self, obj: Any, name: str) -> None:
        """Register a plugin object directly (tests, notebooks, embedding apps)."""
        self._add(obj, PluginInfo(name=name, origin="registered"))
        self._registry = None

    def unregister(self, name: str) -> None:
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)
        self._infos.pop(name, None)
        self._registry = None

    def reset(self) -> None:
        """Forget everything; the next use reloads entry points and environment."""
        self._pm = None
        self._infos = {}
        self._registry = None

    # ---- registry -------------------------------------------------------
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = self._build()
        return self._registry

    def _call(self, hook: str, info: PluginInfo, register: Any) -> None:
        """Call one plugin's implementation of a hook, isolating its failures.

        The callback is named ``register`` as the plugin knows it: a call with a missing
        argument said ``PluginHost._build.<locals>.reg_event_type() missing 1 required
        positional argument``."""
        register.__name__ = register.__qualname__ = "register"
        plugin = self.pm.get_plugin(info.name)
        if plugin is None or hook not in info.hooks:
            return
        others = [p for p in self.pm.get_plugins() if p is not plugin]
        caller = self.pm.subset_hook_caller(hook, remove_plugins=others)
        try:
            caller(register=register)
        except BrandlensError as e:
            info.errors.append(e.message)
        except Exception as e:
            info.errors.append(f"{hook} raised {_one_line(e)}")

    def _build(self) -> Registry:
        from brandlens.data.mapping import Mapping
        from brandlens.plugin.methodology import Methodology, check_methodology
        from brandlens.specs.spec import MethodologySpec, load_spec

        _ = self.pm  # make sure plugins are loaded
        infos = [self._infos[k] for k in sorted(self._infos, key=_core_first)]
        for info in infos:  # registration results are rebuilt from scratch
            info.methodologies, info.event_types, info.presets = [], [], []
            info.report_sections = []
            info.errors = [e for e in info.errors if e.startswith(("failed to", "implements"))]
        event_types: dict[str, str] = {}
        presets: dict[str, Mapping] = {}
        methodologies: dict[str, Any] = {}

        for info in infos:

            def reg_event_type(name: str, description: str, info: PluginInfo = info) -> None:
                if not isinstance(name, str) or not name.isidentifier():
                    raise BrandlensError(f"event type {name!r} must be an identifier")
                if name in event_types:
                    raise BrandlensError(f"event type {name!r} is already registered")
                event_types[name] = description
                info.event_types.append(name)

            self._call("brandlens_register_event_types", info, reg_event_type)

        for info in infos:

            def reg_preset(name: str, mapping: Mapping, info: PluginInfo = info) -> None:
                if not isinstance(mapping, Mapping):
                    raise BrandlensError(f"preset {name!r}: expected a brandlens Mapping")
                if name in presets:
                    raise BrandlensError(f"preset {name!r} is already registered")
                presets[name] = mapping
                info.presets.append(name)

            self._call("brandlens_register_presets", info, reg_preset)

        for info in infos:

            def reg_methodology(
                methodology: Methodology,
                spec: str | Path | MethodologySpec | None = None,
                info: PluginInfo = info,
            ) -> None:
                if not isinstance(methodology, Methodology):
                    raise BrandlensError("register() expects a brandlens Methodology")
                if methodology.name in methodologies:
                    raise BrandlensError(f"methodology {methodology.name!r} is already registered")
                for lad in methodology.ladders:
                    unknown = lad.event_types() - set(event_types)
                    if unknown:
                        raise BrandlensError(
                            f"methodology {methodology.name!r}: ladder {lad.name!r} "
                            f"uses unknown event type(s) {', '.join(sorted(unknown))}"
                        )
                if spec is not None and not isinstance(spec, MethodologySpec):
                    spec = load_spec(spec)
                checked = check_methodology(methodology, info.name, spec)
                if checked.spec is not None:  # verify reports spec errors too
                    unknown = _unknown_event_types(checked.spec, event_types)
                    checked = replace(checked, spec_errors=(*checked.spec_errors, *unknown))
                methodologies[methodology.name] = checked
                info.methodologies.append(methodology.name)
                info.errors.extend(f"{SPEC_NOTE}{e}" for e in checked.spec_errors)

            self._call("brandlens_register_methodologies", info, reg_methodology)

        builders: dict[str, Any] = {}
        for info in infos:

            def reg_report(methodology: str, build: Any, info: PluginInfo = info) -> None:
                if methodology not in info.methodologies:
                    raise BrandlensError(
                        f"report sections for {methodology!r}: not a methodology this plugin "
                        "registered"
                    )
                if not callable(build):
                    raise BrandlensError(f"report sections for {methodology!r}: not callable")
                if methodology in builders:
                    raise BrandlensError(f"report sections for {methodology!r} already registered")
                builders[methodology] = build
                info.report_sections.append(methodology)

            self._call("brandlens_report_sections", info, reg_report)

        for info in infos:
            if info.origin == "core" or info.errors:
                continue
            if not info.hooks:
                info.errors.append(
                    "implements no brandlens hook: decorate its functions with "
                    "@brandlens.hookimpl (docs/plugin-authoring.md)"
                )
            elif not (info.methodologies or info.event_types or info.presets):
                info.errors.append(
                    f"registered nothing: its {', '.join(info.hooks)} never called "
                    "register(...) (returning a methodology does not register it)"
                )
        return Registry(
            methodologies=dict(sorted(methodologies.items())),
            event_types=event_types,
            presets=dict(sorted(presets.items())),
            plugins=infos,
            report_builders=dict(sorted(builders.items())),
        )


def _entry_point_order(ep: Any) -> tuple[str, bool, str]:
    """By name; for one name, brandlens' own distribution first, then by distribution."""
    dist = ep.dist.name if ep.dist else ""
    return (ep.name, dist.lower() != "brandlens", dist)


def _core_first(name: str) -> tuple[int, str]:
    return (0 if name in CORE_PLUGINS else 1, name)


def _trace_before(hook_name: str, hook_impls: list[Any], kwargs: dict[str, Any]) -> None:
    names = ", ".join(i.plugin_name for i in hook_impls)
    print(f"brandlens trace: {hook_name}({', '.join(kwargs)}) -> [{names}]", file=sys.stderr)


def _trace_after(outcome: Any, hook_name: str, hook_impls: list[Any], kwargs: Any) -> None:
    exc = outcome.exception
    status = f"raised {type(exc).__name__}" if exc else "ok"
    print(f"brandlens trace: {hook_name} {status}", file=sys.stderr)


host = PluginHost()
"""The process-wide plugin host (loaded lazily on first use)."""


def registry() -> Registry:
    """The current registry of methodologies, event types and presets."""
    return host.registry()
