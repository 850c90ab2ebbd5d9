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
