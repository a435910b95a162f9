"""balans.atomic: a file or a folder is written whole or not at all.

Each test interrupts a write part way (an exception in the writer, a full disk at the
flush, Ctrl-C, a rename that fails) and checks that the old file or folder is still whole
and that no temporary sibling is left behind.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from balans import atomic
from balans.atomic import atomic_folder, atomic_path, write_bytes_atomic, write_text_atomic

OLD = "the old report, whole\n" * 100


def _siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_file_is_written_and_replaced(tmp_path):
    path = tmp_path / "sub" / "report.txt"
    write_text_atomic(path, "första\n")
    assert path.read_text(encoding="utf-8") == "första\n"
    write_bytes_atomic(path, b"second")
    assert path.read_bytes() == b"second"
    assert _siblings(path.parent) == ["report.txt"]


def test_the_old_file_stays_whole_while_the_new_one_is_written(tmp_path):
    path = tmp_path / "report.txt"
    path.write_text(OLD, encoding="utf-8")
    with atomic_path(path) as tmp:
        tmp.write_text("half a rep", encoding="utf-8")
        assert tmp.parent == path.parent and tmp != path
        assert path.read_text(encoding="utf-8") == OLD
    assert path.read_text(encoding="utf-8") == "half a rep"


@pytest.mark.parametrize("interrupt", [RuntimeError, KeyboardInterrupt])
def test_an_interrupted_write_leaves_the_old_file_whole(tmp_path, interrupt):
    path = tmp_path / "report.txt"
    path.write_text(OLD, encoding="utf-8")
    with pytest.raises(interrupt), atomic_path(path) as tmp:
        tmp.write_text("half a rep", encoding="utf-8")
        raise interrupt()
    assert path.read_text(encoding="utf-8") == OLD
    assert _siblings(tmp_path) == ["report.txt"]


def test_a_full_disk_at_the_flush_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "report.txt"
    path.write_text(OLD, encoding="utf-8")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space"):
        write_text_atomic(path, "new " * 1000)
    assert path.read_text(encoding="utf-8") == OLD
    assert _siblings(tmp_path) == ["report.txt"]


def test_a_new_file_gets_the_mode_of_an_ordinary_file(tmp_path):
    old = os.umask(0o027)
    try:
        write_text_atomic(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o640


def _old_folder(tmp_path: Path) -> Path:
    out = tmp_path / "case"
    out.mkdir()
    (out / "ledger.csv").write_text(OLD, encoding="utf-8")
    (out / "case.yaml").write_text("id: old\n", encoding="utf-8")
    return out


def _contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


def test_a_folder_is_written_and_replaces_the_old_one(tmp_path):
    out = _old_folder(tmp_path)
    with atomic_folder(out) as tmp:
        (tmp / "case.yaml").write_text("id: new\n", encoding="utf-8")
        assert _contents(out)["case.yaml"] == "id: old\n"  # not yet
    assert _contents(out) == {"case.yaml": "id: new\n"}
    assert _siblings(tmp_path) == ["case"]


def test_a_new_folder_is_made_with_its_parents(tmp_path):
    out = tmp_path / "a" / "b" / "case"
    with atomic_folder(out) as tmp:
        (tmp / "x.csv").write_text("1\n", encoding="utf-8")
    assert _contents(out) == {"x.csv": "1\n"}
    assert _siblings(out.parent) == ["case"]


@pytest.mark.parametrize("interrupt", [RuntimeError, KeyboardInterrupt])
def test_an_interrupted_folder_leaves_the_old_one_whole(tmp_path, interrupt):
    out = _old_folder(tmp_path)
    before = _contents(out)
    with pytest.raises(interrupt), atomic_folder(out) as tmp:
        (tmp / "ledger.csv").write_text("half", encoding="utf-8")
        raise interrupt()
    assert _contents(out) == before
    assert _siblings(tmp_path) == ["case"]


def test_a_failed_second_rename_puts_the_old_folder_back(tmp_path, monkeypatch):
    out = _old_folder(tmp_path)
    before = _contents(out)
    real = os.rename
    calls = []

    def rename(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # the new folder into place
            raise OSError(errno.EIO, "Input/output error")
        real(src, dst)

    monkeypatch.setattr(atomic.os, "rename", rename)
    with pytest.raises(OSError, match="Input/output"), atomic_folder(out) as tmp:
        (tmp / "ledger.csv").write_text("new", encoding="utf-8")
    assert len(calls) == 3  # aside, into place (failed), back
    assert _contents(out) == before
    assert _siblings(tmp_path) == ["case"]


def test_a_new_folder_gets_the_mode_of_an_ordinary_folder(tmp_path):
    old = os.umask(0o027)
    try:
        with atomic_folder(tmp_path / "case") as tmp:
            (tmp / "x").write_text("1", encoding="utf-8")
    finally:
        os.umask(old)
    assert (tmp_path / "case").stat().st_mode & 0o777 == 0o750
