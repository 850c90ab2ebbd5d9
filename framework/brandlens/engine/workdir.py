"""A private working directory per run: DuckDB's spill files and unkept stores.

Each run makes ``brandlens-<pid>-<random>`` inside the temporary directory (or the one
the user names) and removes it when the dataset closes. A run that was killed cannot
clean up, so every new run first removes the directories of processes that no longer
exist.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

_PREFIX = "brandlens-"
_NAME = re.compile(r"^brandlens-(\d+)-[A-Za-z0-9_]+$")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale(base: Path) -> list[Path]:
    """Remove working directories left in ``base`` by processes that have ended."""
    removed = []
    with contextlib.suppress(OSError):
        for p in base.iterdir():
            m = _NAME.match(p.name)
            if m and p.is_dir() and not _alive(int(m.group(1))):
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
    return removed


_MADE_FOR: dict[Path, list[Path]] = {}
"""A run's directory -> the folders of --temp-directory made for it (deepest first)."""


def make(base: str | Path | None = None) -> Path:
    """A new private directory for this run (0700), after clearing stale ones.

    A --temp-directory that does not exist is made, and removed again with the run's
    directory when nothing else was put in it meanwhile.
    """
    root = Path(base) if base else Path(tempfile.gettempdir())
    missing = [p for p in [root, *root.parents] if not p.exists()]
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        from brandlens.errors import UsageError

        _remove_empty(missing)
        raise UsageError(f"--temp-directory {root}: cannot create ({e.strerror})") from None
    remove_stale(root)
    try:
        made = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=root))
    except OSError as e:
        from brandlens.errors import UsageError

        _remove_empty(missing)
        raise UsageError(f"--temp-directory {root}: cannot write ({e.strerror})") from None
    _MADE_FOR[made] = missing
    return made


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first; one another run uses is not empty
        try:
            folder.rmdir()
        except OSError:
            return


def remove(path: Path | None) -> None:
    """Remove a run's directory; retried, since a spill file may appear while it goes."""
    if path is None:
        return
    for _ in range(5):
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            break
        time.sleep(0.02)
    _remove_empty(_MADE_FOR.pop(path, []))
