"""The batch's outputs whole or not at all (through :mod:`balans.atomic`), and the leftovers
of a killed batch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from balans.atomic import atomic_path, write_text_atomic

__all__ = ["atomic_path", "remove_leftovers", "write_json_atomic"]


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def remove_leftovers(out: Path) -> None:
    """The temporary files and report folders a killed batch left in ``out``."""
    for stale in (out / "reports").glob(".*.tmp"):
        shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink()
    for stale in out.glob(".*.tmp"):
        stale.unlink(missing_ok=True)
