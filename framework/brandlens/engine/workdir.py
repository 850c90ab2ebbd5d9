"""A private working directory per run: DuckDB's spill files and unkept stores.

Each run makes ``brandlens-<pid>-<random>`` inside the temporary directory (or the one
the user names) and removes it when the dataset closes. A run that was killed cannot
clean up, so every new run first removes the directories no live run holds.

A run holds its directory by an exclusive ``flock`` on the ``lock`` file inside, kept
for the run's life; the kernel releases it when the process ends, however it ends. The
process id alone could not say: two containers sharing a temporary directory see each
other's ids as ended processes (a live run's spill files were removed under it), and
an ended run's id can be taken by a new process. The directory is made under a hidden
name and takes its ``brandlens-`` name only once locked, so no run ever sees it
unlocked. Directories without a lock file (made by a brandlens before this one, or
where ``flock`` does not exist) are judged by the process id, as before.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # Windows: no flock; directories are judged by their process id
    fcntl = None  # type: ignore[assignment]

_PREFIX = "brandlens-"
_NAME = re.compile(r"^brandlens-(\d+)-[A-Za-z0-9_]+$")
_MAKING = ".brandlens-making-"
"""A directory's name until its lock is taken; one a killed run left is removed after
an hour."""
_LOCK = "lock"
_HELD: dict[Path, IO[bytes]] = {}
"""A run's directory -> its open, locked lock file."""


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


def _lock(path: Path) -> IO[bytes] | None:
    """The lock file at ``path``, open and exclusively locked; None when a live run
    holds it (or there is none to lock)."""
    try:
        f = open(path, "rb")  # noqa: SIM115 (held open while the directory is removed)
    except OSError:
        return None
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        return None
    return f


def _remove_unheld(p: Path, pid: int) -> bool:
    """Remove the working directory ``p`` when no live run holds it."""
    lock = p / _LOCK
    if fcntl is not None and lock.exists():
        held = _lock(lock)
        if held is None:
            return False
        with held:  # locked while it goes: nobody takes it meanwhile
            shutil.rmtree(p, ignore_errors=True)
        return True
    if _alive(pid):
        return False
    shutil.rmtree(p, ignore_errors=True)
    return True


def remove_stale(base: Path) -> list[Path]:
    """Remove working directories in ``base`` that no live run holds.

    Each directory on its own: one that cannot be looked into (another user's, 0700,
    in a shared /tmp) is taken as held, and the next ones are still looked at."""
    removed = []
    try:
        entries = list(base.iterdir())
    except OSError:
        return removed
    for p in entries:
        try:
            m = _NAME.match(p.name)
            if m and p.is_dir() and _remove_unheld(p, int(m.group(1))):
                removed.append(p)
            elif (
                p.name.startswith(_MAKING) and p.is_dir() and time.time() - p.stat().st_mtime > 3600
            ):
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
        except OSError:
            continue
    return removed


def _held_directory(root: Path) -> Path:
    """A new ``brandlens-<pid>-<random>`` directory in ``root``, locked for this run."""
    if fcntl is None:
        return Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=root))
    making = Path(tempfile.mkdtemp(prefix=_MAKING, dir=root))
    held: IO[bytes] | None = None
    try:
        held = open(making / _LOCK, "xb")  # noqa: SIM115 (held for the run's life)
        try:
            fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        except OSError:  # a file system without flock (some network mounts): no lock
            held.close()  # file, so other runs judge the directory by its process id
            held = None
            (making / _LOCK).unlink()
        made = root / f"{_PREFIX}{os.getpid()}-{making.name[len(_MAKING) :]}"
        os.rename(making, made)
    except OSError:
        if held is not None:
            held.close()
        shutil.rmtree(making, ignore_errors=True)
        raise
    if held is not None:
        _HELD[made] = held
    return made


_MADE_FOR: dict[Path, list[Path]] = {}
"""A run's directory -> the folders of --temp-directory made for it (deepest first)."""


def make(base: str | Path | None = None) -> Path:
    """A new private directory for this run (0700), after clearing stale ones.

    A --temp-directory that does not exist is made, and removed again with the run's
    directory when nothing else was put in it meanwhile.
    """
    root = Path(base) if base else Path(tempfile.gettempdir())
    missing = [p for p in [root, *root.parents] if not os.path.lexists(p)]  # never raises
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        from brandlens.errors import UsageError

        _remove_empty(missing)
        raise UsageError(f"--temp-directory {root}: cannot create ({e.strerror})") from None
    remove_stale(root)
    try:
        made = _held_directory(root)
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
            if os.path.lexists(folder):  # in use by another run, or not ours to remove
                return
            # never made (mkdir failed on it, e.g. a name too long): its parents may be


def remove(path: Path | None) -> None:
    """Remove a run's directory; retried, since a spill file may appear while it goes."""
    if path is None:
        return
    for _ in range(5):
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            break
        time.sleep(0.02)
    held = _HELD.pop(path, None)
    if held is not None:  # released only once the directory is gone
        held.close()
    _remove_empty(_MADE_FOR.pop(path, []))
