"""The scaffold installs and verifies in a fresh virtual environment, as its README says.

A third-party author's path, end to end: ``brandlens new-plugin``, a new venv
(no system site-packages), brandlens installed from this checkout, the plugin
installed with its test extra, then ``brandlens verify`` and the plugin's own
pytest suite. It needs the package index (or pip's cache) for brandlens'
dependencies; without either it is skipped with the reason.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from brandlens.plugin.scaffold import new_plugin

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str | Path], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    home = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(home / ".venv")
    # a user's shell: none of this suite's settings (BRANDLENS_LOAD_PLUGINS pins the
    # checkout's plugins) and no PYTHONPATH
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "VIRTUAL_ENV"} and not k.startswith("BRANDLENS_")
    }
    env["PATH"] = f"{home / '.venv' / 'bin'}{os.pathsep}{env['PATH']}"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return home, env


def test_scaffold_installs_and_verifies_in_a_fresh_venv(fresh_venv, tmp_path):
    home, env = fresh_venv
    bin_dir = home / ".venv" / "bin"
    plugin = new_plugin("trial", tmp_path)
    readme = (plugin / "README.md").read_text(encoding="utf-8")
    assert "pypi.org" not in readme  # no link to a package page that does not exist
    assert 'pip install -e ".[test]"' in readme
    # The README names the brandlens source; from an editable checkout install, this one.
    (source,) = re.findall(r"^pip install (\S+)$", readme, flags=re.M)
    assert Path(source) == ROOT or source == "/path/to/brandlens"

    installed = _run([bin_dir / "pip", "install", "-q", ROOT], plugin, env)
    if installed.returncode != 0 and "No matching distribution" in installed.stderr:
        pytest.skip(f"no package index reachable for brandlens' dependencies: {installed.stderr}")
    assert installed.returncode == 0, installed.stderr
    # The step that used to fail with "No matching distribution found for brandlens".
    step = _run([bin_dir / "pip", "install", "-q", "-e", ".[test]"], plugin, env)
    assert step.returncode == 0, step.stderr

    listed = _run([bin_dir / "brandlens", "plugins", "--format", "json"], plugin, env)
    assert listed.returncode == 0, listed.stderr
    assert "trial" in {p["name"] for p in json.loads(listed.stdout)["plugins"]}
    env = {**env, "BRANDLENS_VERIFY_EXAMPLES": "3", "BRANDLENS_CACHE_DIR": str(tmp_path / "c")}
    verified = _run([bin_dir / "brandlens", "verify", "trial", "--max-examples", "3"], plugin, env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    own_tests = _run(
        [bin_dir / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider"], plugin, env
    )
    assert own_tests.returncode == 0, own_tests.stdout + own_tests.stderr
    assert "1 passed" in own_tests.stdout
    # the venv's python really is separate from the one running this suite
    assert Path(sys.prefix) != home / ".venv"
