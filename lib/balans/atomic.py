"""Writing a file or a folder atomically: whole, or not at all.

Everything Balans writes for someone to read later (a scenario file, a report, a batch's
summaries, an imported case folder) is written into a temporary sibling and renamed into
place once it is complete. A crash, a full disk or Ctrl-C part way leaves the old file or
folder as it was, and at most a hidden temporary sibling (``.name.…tmp``), never half a file.

- :func:`atomic_path`: a temporary path beside a file, for writers that want a path
  (openpyxl, pandas); renamed over the file when the block ends without an exception.
- :func:`write_bytes_atomic`, :func:`write_text_atomic`: the same for bytes or UTF-8 text.
- :func:`atomic_folder`: a temporary folder beside a folder; when the block ends without an
  exception it takes the folder's place, an existing one swapped out by two renames (the old
  one is put back if the second rename fails, and removed only once the new one is in place).

What is written gets the mode an ordinary new file or folder gets (0666 or 0777 less the
umask), not the 0600/0700 of :mod:`tempfile`, so that colleagues can read a report where the
folder lets them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def follow_umask(path: str | Path) -> None:
    """Give a file or folder made by ``mkstemp``/``mkdtemp`` (0600/0700) the mode an
    ordinary new one gets: 0666 (a folder 0777) less the umask."""
    mask = os.umask(0o022)
    os.umask(mask)
    full = 0o777 if os.path.isdir(path) else 0o666
    os.chmod(path, full & ~mask)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; flushed to disk and moved into place
    when the block ends without an exception, removed otherwise."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        follow_umask(tmp)
        yield Path(tmp)
        with open(tmp, "r+b") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` whole or not at all (see :func:`atomic_path`)."""
    write_bytes_atomic(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_folder(path: Path) -> Iterator[Path]:
    """A new temporary folder beside ``path`` to fill. When the block ends without an
    exception it takes the place of ``path`` (an existing file or folder there is replaced);
    otherwise it is removed and ``path`` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        follow_umask(tmp)
        yield tmp
        _rename_into_place(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _rename_into_place(tmp: Path, path: Path) -> None:
    """Rename ``tmp`` to ``path``; an existing ``path`` is moved aside first and put back
    if the second rename fails, so that there is always a whole one."""
    if not os.path.lexists(path):
        os.rename(tmp, path)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
    os.rename(path, old / path.name)
    try:
        os.rename(tmp, path)
    except BaseException:
        os.rename(old / path.name, path)
        old.rmdir()
        raise
    shutil.rmtree(old, ignore_errors=True)
