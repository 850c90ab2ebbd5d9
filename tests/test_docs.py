"""Docs that cannot drift: hooks documented, worked example executed, schema table derived."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

from brandlens.data.schema import TABLES, markdown_table
from brandlens.data.validation import REASONS
from brandlens.plugin import hookspecs

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _hooks():
    import pluggy

    pm = pluggy.PluginManager("brandlens")
    pm.add_hookspecs(hookspecs)
    return [
        (name, getattr(pm.hook, name).spec.argnames)
        for name in dir(pm.hook)
        if name.startswith("brandlens_")
    ]


@pytest.mark.parametrize(("hook", "args"), _hooks())
def test_every_hook_is_documented(hook, args):
    text = (DOCS / "plugin-authoring.md").read_text(encoding="utf-8")
    assert f"### {hook}({', '.join(args)})" in text


def test_every_hook_has_a_docstring():
    for hook, _ in _hooks():
        assert (getattr(hookspecs, hook).__doc__ or "").strip(), hook


def test_the_worked_example_runs(tmp_path, monkeypatch):
    """The plugin-authoring page, executed: the plugin, its spec, the try-it and verify steps."""
    from brandlens.plugin.host import host

    text = (DOCS / "plugin-authoring.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    (spec,) = re.findall(r"```yaml\n(methodology: repeat.*?)```", text, flags=re.S)
    assert len(blocks) == 4
    (tmp_path / "spec.yaml").write_text(spec, encoding="utf-8")
    module = types.ModuleType("brandlens_repeat_doc")
    module.__file__ = str(tmp_path / "__init__.py")
    sys.modules[module.__name__] = module
    monkeypatch.setenv("BRANDLENS_VERIFY_EXAMPLES", "3")
    try:
        for block in blocks:  # define, grouped stages, register + compute + assert, verify
            exec(compile(block, "plugin-authoring.md", "exec"), module.__dict__)
        info = next(p for p in host.registry().plugins if p.name == "repeat-example")
        assert info.errors == []
    finally:
        del sys.modules[module.__name__]
        host.unregister("repeat-example")
        host.reset()


def test_data_doc_embeds_the_derived_schema_tables_and_every_reason():
    text = (DOCS / "data.md").read_text(encoding="utf-8")
    for model in TABLES.values():
        assert markdown_table(model) in text
    for reason in REASONS:
        assert f"`{reason}`" in text


def test_readme_documents_exit_codes_and_the_two_commands():
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    assert "pip install -e . && brandlens demo" in readme
    assert 'pip install -e ".[test]" && python -m pytest' in readme
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 130 |"):
        assert code in readme


@pytest.mark.parametrize(
    "spec_file", sorted((DOCS.parent / "specs").glob("*.yaml")), ids=lambda p: p.stem
)
def test_methodology_pages_draw_on_the_spec(spec_file):
    """docs/methodologies/<name>.md embeds the spec-generated section, up to date."""
    from brandlens.specs.spec import load_spec, spec_markdown

    page = DOCS / "methodologies" / f"{spec_file.stem}.md"
    text = page.read_text(encoding="utf-8")
    section = spec_markdown(load_spec(spec_file))
    assert f"<!-- spec:begin -->\n{section}<!-- spec:end -->" in text, (
        "run python scripts/spec_docs.py"
    )
    for heading in ("## Sources", "differs from"):
        assert heading in text


def test_specs_page_documents_every_property_kind_from_its_checker():
    """docs/specs.md holds the reference written from the checkers, up to date: each kind's
    exact check, probes, random input, when it counts as exercised, and its failure."""
    from brandlens.specs.checks import CHECKERS, checks_markdown
    from brandlens.specs.spec import PROPERTY_KINDS

    text = (DOCS / "specs.md").read_text(encoding="utf-8")
    section = checks_markdown()
    assert f"<!-- checks:begin -->\n{section}<!-- checks:end -->" in text, (
        "run python scripts/spec_docs.py"
    )
    for kind in PROPERTY_KINDS:
        assert f"### `{kind}`" in section
        c = CHECKERS[kind]
        assert all(x.strip() for x in (c.checks, c.probing, c.random, c.exercised, c.failure))
    for words in ("`total_field`", "`parts_keys`", "`total_key`", "`max()`", "key by key"):
        assert words in text, words


def test_spec_json_schema_file_is_current():
    """docs/spec.schema.json (for editor completion) equals `brandlens schema --spec`."""
    import json

    from brandlens.specs.spec import spec_json_schema

    on_disk = json.loads((DOCS / "spec.schema.json").read_text(encoding="utf-8"))
    assert on_disk == spec_json_schema(), "run brandlens schema --spec -o docs/spec.schema.json"


def _api_docs():
    """scripts/api_docs.py, the generator of docs/api.md, as a module."""
    import importlib.util

    path = DOCS.parent / "scripts" / "api_docs.py"
    spec = importlib.util.spec_from_file_location("api_docs", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _public_objects():
    from importlib import import_module

    gen = _api_docs()
    for module in gen.MODULES:
        for name in gen.public_names(module):
            yield module, name, getattr(import_module(module), name)


def test_api_page_is_current():
    """docs/api.md is what scripts/api_docs.py makes of the code now (run it after edits)."""
    assert (DOCS / "api.md").read_text(encoding="utf-8") == _api_docs().page()


def test_every_public_name_is_documented_on_the_api_page():
    import dataclasses
    import inspect

    from pydantic import BaseModel

    gen = _api_docs()
    page = (DOCS / "api.md").read_text(encoding="utf-8")
    for module, name, obj in _public_objects():
        doc = gen.docstring(module, name)
        assert doc.strip(), f"{module}.{name} has no docstring"
        if gen.is_data(obj):  # a constant: the docstring under its assignment, an example
            assert f"### `{name}`\n" in page and "Example" in doc, name
            continue
        assert f"### class `{name}`" in page or f"### `{name}(" in page, name
        if not isinstance(obj, type):
            continue
        assert "Example" in inspect.getdoc(obj), f"{name}: no example in its docstring"
        if issubclass(obj, BaseModel):
            for field, info in obj.model_fields.items():
                assert info.description, f"{name}.{field} has no description"
        elif dataclasses.is_dataclass(obj):
            for f in dataclasses.fields(obj):
                assert f.name.startswith("_") or f.metadata.get("doc"), f"{name}.{f.name}"
        for member_name, member in vars(obj).items():
            if member_name.startswith(("_", "model_")):
                continue
            fn = member.fget if isinstance(member, property) else member
            if inspect.isfunction(fn):
                assert (fn.__doc__ or "").strip(), f"{name}.{member_name} has no docstring"


def test_every_api_example_runs():
    page = (DOCS / "api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.S)
    assert len(blocks) >= 15
    for block in blocks:
        namespace: dict = {}
        exec("from brandlens.plugin import *", namespace)
        exec("from brandlens.stats.clv import *", namespace)
        exec("from pydantic import BaseModel, ConfigDict, Field", namespace)
        exec("import numpy as np", namespace)
        exec(compile(block, "api.md", "exec"), namespace)
