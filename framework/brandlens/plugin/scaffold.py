"""``brandlens new-plugin``: write a complete, installable methodology plugin package.

The package has a pyproject with the entry point, a methodology with one SQL
indicator over one stage ladder, its spec file with properties, a test that runs
the verification harness, and a README. It passes ``brandlens verify`` as written.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path

from brandlens.errors import UsageError
from brandlens.fileio import atomic_write_text

PYPROJECT = """\
[build-system]
requires = ["hatchling>=1.25"]
build-backend = "hatchling.build"

[project]
name = "brandlens-{name}"
version = "0.1.0"
description = "A brandlens methodology plugin: {name}"
requires-python = ">=3.11"
dependencies = ["brandlens"]

[project.optional-dependencies]
test = ["pytest>=8"]

[project.entry-points.brandlens]
{name} = "brandlens_{name}"

[tool.hatch.build.targets.wheel]
packages = ["brandlens_{name}"]
"""

MODULE = '''\
"""The {name} methodology: a brandlens plugin.

Users who saw the brand recently are "aware"; users who engaged with it
(cart, favourite, brand search, or product views on two days) are "engaged".
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

import brandlens
from brandlens.plugin import EVENT_GROUPS, Condition, Evidence, Stage, StageLadder
from brandlens.plugin import Indicator, Methodology

SPEC = Path(__file__).with_name("spec.yaml")


class Parameters(BaseModel):
    window_days: int = Field(30, ge=1, description="look-back window for every stage")


STAGES = StageLadder(
    name="{name}_stages",
    stages=(
        Stage(key="aware", evidence=(
            # the core's exposure group: ad_impression, content_view, product_view
            Evidence(event_types=EVENT_GROUPS["exposure"], window_days="$window_days"),
        )),
        Stage(key="engaged", evidence=(
            Evidence(event_types=("add_to_cart", "favorite"), window_days="$window_days"),
            Evidence(event_types=("search",), window_days="$window_days",
                     where=(Condition(column="query_type", op="=", value="brand"),)),
            Evidence(event_types=("product_view",), window_days="$window_days", min_days=2),
        )),
    ),
)

METHODOLOGY = Methodology(
    name="{name}",
    title="{title}",
    source="describe where the definitions come from (a URL)",
    version="0.1.0",
    parameters=Parameters,
    ladders=(STAGES,),
    indicators=(
        Indicator(
            id="{name}.engaged_users",
            sql="""
                SELECT b.brand, count(s.user_id) AS value
                FROM brands b
                LEFT JOIN {name}_stages s
                  ON s.brand = b.brand AND s.stage = 'engaged' AND s.days_before = 0
                GROUP BY b.brand
            """,
        ),
    ),
)


@brandlens.hookimpl
def brandlens_register_methodologies(register):
    register(METHODOLOGY, spec=SPEC)
'''

SPEC = """\
# Spec of the {name} methodology: definitions written once, properties verified by
# `brandlens verify {name}` on generated event logs.
methodology: {name}
title: {{en: "{title}", zh: "{title}"}}
sources: ["assumption: replace with the URL of your definitions"]
parameters:
  window_days:
    default: 30
    description: look-back window for every stage
    source: "assumption: a month is the usual campaign horizon"
indicators:
  - id: {name}.engaged_users
    title: {{en: Engaged users, zh: 互动用户数}}
    definition: users whose highest stage with the brand as of d is "engaged"
    formula: "|{{u : stage(u, b, d) = engaged}}|"
    unit: users
    direction: higher
    headline: true
    parameters: [window_days]
    properties:
      - non_negative
      - integer
      - permutation_invariant
      - brand_isolated
      - time_shift_invariant
      - window_bounded: {{days: "$window_days"}}
      # what the engaged stage reads: any other event, or a search not for the brand,
      # must change nothing
      - reads_only:
          event_types: [add_to_cart, favorite, search, product_view]
          where: {{search: {{query_type: [brand]}}}}
      - deterministic
      - empty_brand
      - monotone: {{add: {{event_type: add_to_cart, user: new}}, direction: non_decreasing}}
      # the rule's inner edge: product views make "engaged" from the second day on
      - threshold: {{add: {{event_type: product_view}}, days: 2, within: "$window_days"}}
"""

TEST = """\
from brandlens.specs.testing import assert_honours_spec


def test_{name}_honours_its_spec():
    assert_honours_spec("{name}")
"""

README = """\
# brandlens-{name}

A methodology plugin for brandlens: `brandlens compute DATA -m {name}`.

## Install

brandlens is not on a package index yet, so install it first into the
environment that will hold this plugin, from a checkout of brandlens or from a
wheel built from one (`pip wheel --no-deps /path/to/brandlens`):

```bash
python3 -m venv .venv && . .venv/bin/activate
pip install {brandlens_source}
pip install -e ".[test]"       # this plugin; its dependency "brandlens" is now met
```
{origin_note}
Once brandlens is published, `pip install -e ".[test]"` alone installs both.

## Use

```bash
brandlens plugins              # lists {name}
brandlens compute DATA -m {name}
brandlens verify {name}        # checks every property in spec.yaml
python -m pytest               # the same check from your test suite
```

Edit `brandlens_{name}/__init__.py` (the computation) and
`brandlens_{name}/spec.yaml` (definitions, parameter sources and properties).
The public plugin API is `brandlens.plugin`; its reference is docs/api.md in
the brandlens repository.
"""


def brandlens_checkout() -> Path | None:
    """The brandlens checkout this code runs from, else the local folder the installed
    brandlens came from.

    The running code comes first: run from another checkout (``PYTHONPATH``, a second
    clone), pip's record names the installed one, which is not what made the package.
    pip records its folder in the distribution's ``direct_url.json`` (editable or not); a
    wheel or index install has no folder, and the README then names a placeholder.
    """
    import json
    from importlib.metadata import PackageNotFoundError, distribution
    from urllib.parse import unquote, urlparse

    import brandlens

    running = Path(brandlens.__file__).resolve().parents[2]  # <checkout>/framework/brandlens
    if (running / "pyproject.toml").is_file() and (running / "framework").is_dir():
        return running
    try:
        raw = distribution("brandlens").read_text("direct_url.json")
    except PackageNotFoundError:
        return None
    if not raw:
        return None
    url = urlparse(json.loads(raw).get("url", ""))
    if url.scheme != "file":
        return None
    folder = Path(unquote(url.path))
    return folder if (folder / "pyproject.toml").is_file() else None


def _readme_values() -> dict[str, str]:
    checkout = brandlens_checkout()
    if checkout is None:
        return {"brandlens_source": "/path/to/brandlens", "origin_note": ""}
    return {
        "brandlens_source": str(checkout),
        "origin_note": f"\n(`{checkout}` is the brandlens checkout this package was made with.)\n",
    }


def _taken_names() -> dict[str, str]:
    """Installed plugin entry points and methodologies: name -> what it names."""
    from importlib import metadata

    from brandlens.plugin.host import GROUP, host

    taken = {ep.name: "plugin" for ep in metadata.entry_points(group=GROUP)}
    taken |= {m: "methodology" for m in host.registry().methodologies}
    return taken


def new_plugin(name: str, directory: Path) -> Path:
    """Write the package ``brandlens-<name>`` under ``directory``; return its path."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise UsageError(
            f"new-plugin: {name!r} must start with a lower case letter, then lower case "
            "letters, digits and _ (it names a Python package and a methodology)"
        )
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"new-plugin: --dir {directory} is not a folder")
    taken = _taken_names()
    if name in taken:  # installed beside it, one of the two would not load
        raise UsageError(
            f"new-plugin: {name!r} is already the name of an installed {taken[name]}; "
            "choose another"
        )
    root = directory / f"brandlens-{name}"
    title = name.replace("_", " ").title()
    files = {
        "pyproject.toml": PYPROJECT,
        f"brandlens_{name}/__init__.py": MODULE,
        f"brandlens_{name}/spec.yaml": SPEC,
        f"tests/test_{name}_spec.py": TEST,
        "README.md": README,
    }
    made = [p for p in [directory, *directory.parents] if not p.exists()]  # deepest first
    try:  # a fresh folder of our own: nothing that existed before is touched
        root.mkdir(parents=True)
    except FileExistsError:
        raise UsageError(f"new-plugin: {root} already exists") from None
    except OSError as e:
        raise UsageError(f"new-plugin: {root}: cannot create ({e.strerror})") from None
    try:
        for rel, template in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            text = template.format(name=name, title=title, **_readme_values())
            atomic_write_text(path, text, "new-plugin")
    except BaseException as e:  # no half-written package: the folder was ours alone
        shutil.rmtree(root, ignore_errors=True)
        for folder in made:  # and --dir, as far as this run made it
            with contextlib.suppress(OSError):
                folder.rmdir()
        if isinstance(e, OSError):
            raise UsageError(f"new-plugin: {root}: cannot write ({e.strerror})") from None
        raise
    return root
