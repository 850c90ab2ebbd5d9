"""The core knows nothing about any methodology: it never imports a plugin package."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "framework" / "brandlens"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", "") in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(str(node.args[0].value).split(".")[0])
    return names


def test_core_never_imports_a_plugin_package():
    plugin_packages = {p.name for p in (ROOT / "plugins").glob("brandlens_*")} | {"brandlens_"}
    offenders = {}
    for path in CORE.rglob("*.py"):
        bad = {n for n in _imports(path) if n.startswith("brandlens_") or n in plugin_packages}
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_builtin_plugins_are_registered_only_through_entry_points():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    eps = data["project"].get("entry-points", {}).get("brandlens", {})
    packages = data["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    for pkg in (ROOT / "plugins").glob("brandlens_*"):
        assert f"plugins/{pkg.name}" in packages
        assert any(v.split(":")[0].split(".")[0] == pkg.name for v in eps.values()), pkg.name
    from brandlens.plugin.host import CORE_PLUGINS

    assert all(m.startswith("brandlens.") for m in CORE_PLUGINS)


def test_plugins_use_only_the_public_api():
    """Built-in plugins import brandlens' public modules only, like a third-party plugin."""
    public = {"brandlens", "brandlens.plugin", "brandlens.stats.clv", "brandlens.specs.testing"}
    for path in (ROOT / "plugins").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("brandlens.")
            ):
                assert node.module in public, f"{path}: imports {node.module}"


def test_the_plugin_api_exports_exactly_what_it_maps():
    from importlib import import_module

    import brandlens.plugin as api

    assert sorted(api.__all__) == sorted(api.PUBLIC)
    for name in api.__all__:
        value = getattr(api, name)
        if not callable(value):  # a constant (EVENT_GROUPS): the mapped module's own object
            assert getattr(import_module(api.PUBLIC[name]), name) is value, name
            continue  # its docstring is under its assignment (tests/test_docs.py)
        assert value.__module__ == api.PUBLIC[name], name
        assert (value.__doc__ or "").strip(), f"{name} has no docstring"


def _map_entries() -> set[str]:
    """Paths named by docs/architecture.md's package map (nesting by indentation)."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = text.split("```\n__init__.py", 1)[1].split("```", 1)[0]
    entries, stack = {"__init__.py"}, []
    for line in block.splitlines()[1:]:
        if not line.strip():
            continue
        depth = (len(line) - len(line.lstrip(" "))) // 2
        name = line.split()[0]
        stack = [*stack[:depth], name]
        entries.add("".join(stack))
    return entries


def test_architecture_map_equals_the_package_tree():
    tree = set()
    for path in CORE.rglob("*.py"):
        rel = path.relative_to(CORE)
        if rel.name == "__init__.py" and rel.parent != Path("."):
            tree.add(rel.parent.as_posix() + "/")
        else:
            tree.add(rel.as_posix())
    assert _map_entries() == tree
