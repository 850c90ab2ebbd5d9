"""Every file brandlens writes goes through here: a temporary file, then one atomic rename.

A writer gets a unique temporary name beside the target (``.NAME.XXXX.tmp``, created
with ``mkstemp`` so it cannot collide with anything that exists) and the target is
replaced by ``os.replace`` only when writing succeeded. No other file in the folder is
ever touched, a failed or interrupted write leaves no partial output and no temporary
file behind, and every problem (a directory, a missing folder, no permission) is a
one-line UsageError naming the path.
"""

from __future__ import annotations

import os
import stat
import tempfile
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from brandlens.errors import UsageError, first_line

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa


SMALL_FILE_LIMIT = 16 * 1024 * 1024
"""The most brandlens reads of a file the user names for settings (a mapping, a spec,
benchmarks): such files are small, and a device such as /dev/zero never ends."""


def read_small_text(path: str | Path, limit: int = SMALL_FILE_LIMIT) -> str:
    """A settings file's UTF-8 text; OSError (EFBIG) past ``limit`` bytes, so callers'
    one-line "cannot read" errors cover an endless device as they cover a missing file."""
    import errno

    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit // (1024 * 1024)} MB; not a settings file")
    return data.decode("utf-8")


_READ_OTHERWISE = {
    "\\": "a backslash, which DuckDB reads as a folder separator",
    "?": "a '?', which DuckDB reads as the start of connection options",
}


def database_path(path: str | Path, what: str, error: type[Exception] = UsageError) -> str:
    """The text to give DuckDB for the database file ``path``: absolute, so no name is
    read as a protocol (``md:``, ``s3://``). A path DuckDB would read as another one
    (on Linux ``a\\b/x.duckdb`` opens ``a/b/x.duckdb``, possibly outside the folder the
    user named) raises ``error``, naming ``what`` and the path."""
    text = str(Path(path).absolute())
    for char, why in _READ_OTHERWISE.items():
        if char in text and (char != "\\" or os.sep != "\\"):
            where = f"{what} {path}" if what else str(path)
            raise error(
                f"{where}: DuckDB cannot open a database whose path holds {why}; rename "
                "the file, or the folder on its path that holds it"
            )
    return text


def _label(target: str | Path, what: str) -> str:
    return f"{what} {target}" if what else str(target)


@cache
def _umask() -> int:
    """The process umask (only readable by setting it), so files get their usual mode."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class AtomicFile:
    """A unique temporary file beside ``target`` that replaces ``target`` on commit.

    Use it as a context manager (commit on success, discard on any exception,
    KeyboardInterrupt included) or call ``commit`` / ``discard`` for writers that
    stream over several calls.
    """

    def __init__(self, target: str | Path, what: str = "", mode: int | None = None) -> None:
        self.target = Path(target)
        self.mode = mode  # None: the usual mode (0o666 less the umask)
        self._label = _label(target, what)
        if self.target.is_dir():
            raise UsageError(f"{self._label}: is a directory; give a file name")
        if self.target.exists() and not stat.S_ISREG(self.target.stat().st_mode):
            # a device or pipe cannot be replaced atomically, and replacing it would destroy it
            raise UsageError(f"{self._label}: not a regular file; give a file name")
        folder = self.target.parent
        if not folder.is_dir():
            raise UsageError(f"{self._label}: folder {folder} does not exist")
        try:  # absolute, so no tool ever reads a leading ~ or a relative name its own way
            fd, name = tempfile.mkstemp(
                dir=os.path.abspath(folder), prefix=f".{self.target.name}.", suffix=".tmp"
            )
        except OSError as e:
            raise UsageError(f"{self._label}: cannot write ({e.strerror})") from None
        os.close(fd)
        self.tmp = Path(name)
        self._done = False

    def commit(self) -> None:
        """Give the temporary file the usual mode and rename it onto the target."""
        if self._done:
            return
        self._done = True
        try:
            os.chmod(self.tmp, 0o666 & ~_umask() if self.mode is None else self.mode)
            os.replace(self.tmp, self.target)
        except OSError as e:
            self.tmp.unlink(missing_ok=True)
            raise UsageError(f"{self._label}: cannot write ({e.strerror})") from None

    def discard(self) -> None:
        """Remove the temporary file; the target is left as it was."""
        if not self._done:
            self._done = True
            self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> Path:
        return self.tmp

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def check_writable(target: str | Path, what: str = "") -> None:
    """Refuse now, as writing would later, a target that cannot be written (a folder, a
    device, a missing folder, no permission): before a long run, not after it."""
    AtomicFile(target, what).discard()


def atomic_path(target: str | Path, what: str = "", mode: int | None = None) -> AtomicFile:
    """``with atomic_path(p) as tmp:`` write ``tmp`` (any writer that needs a path)."""
    return AtomicFile(target, what, mode)


def atomic_write_bytes(
    target: str | Path, data: bytes, what: str = "", mode: int | None = None
) -> None:
    """Write ``data`` to ``target`` atomically (``mode``: see :class:`AtomicFile`)."""
    with atomic_path(target, what, mode) as tmp:
        try:
            tmp.write_bytes(data)
        except OSError as e:
            raise UsageError(f"{_label(target, what)}: cannot write ({e.strerror})") from None


def atomic_write_text(
    target: str | Path, text: str, what: str = "", mode: int | None = None
) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    atomic_write_bytes(target, text.encode("utf-8"), what, mode)


def write_rows(rows: pa.RecordBatchReader | pa.Table, target: str | Path, what: str = "") -> None:
    """Write rows as CSV with a header, or Parquet when ``target`` ends in .parquet.

    A private DuckDB instance writes them, so the caller's connection (whose file access
    may already be switched off) never needs to write, and ``USE_TMP_FILE false`` keeps
    DuckDB from making its own ``tmp_<name>`` beside the target.
    """
    import duckdb

    name = str(target).lower()
    if name.endswith(".parquet"):
        options = "FORMAT PARQUET"
    else:
        gzip = ", COMPRESSION GZIP" if name.endswith(".gz") else ""
        options = f"FORMAT CSV, HEADER{gzip}"
    with atomic_path(target, what) as tmp:
        writer = duckdb.connect(":memory:", config={"threads": 1})
        try:  # the writer may touch the temporary file and nothing else
            writer.execute("SET allowed_paths = [$path]", {"path": str(tmp)})
            writer.execute("SET enable_external_access = false")
            writer.register("rows_to_write", rows)
            writer.execute(
                f"COPY rows_to_write TO $path ({options}, USE_TMP_FILE false)", {"path": str(tmp)}
            )
        except duckdb.Error as e:
            first = first_line(e)
            raise UsageError(f"{_label(target, what)}: cannot write ({first})") from None
        finally:
            writer.close()
