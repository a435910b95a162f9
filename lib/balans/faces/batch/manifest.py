"""The cache: ``manifest.json`` keeps, per report, the key of what made it and its files.

A key is made of the scenario's hash, the data hash, the model version, the language, the
case and its close, and hashes of the report notebook and of the package's source; a
scenario whose key has not changed is not run again."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from balans.errors import BalansError
from balans.faces.batch.atomic import write_json_atomic
from balans.presentation.report import read_key_figures

PACKAGE_DIR = Path(__file__).resolve().parents[2]  # balans/
MANIFEST_FORMAT = "balans.batch_manifest/1"


def _sha(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(len(p).to_bytes(8, "big"))
        h.update(p)
    return h.hexdigest()[:16]


def source_hash(package_dir: Path = PACKAGE_DIR) -> str:
    """sha256 over the package's Python source and labels (names and bytes)."""
    files = sorted(
        f
        for pattern in ("**/*.py", "locale/*.yaml")
        for f in package_dir.glob(pattern)
        if "__pycache__" not in f.parts
    )
    return _sha(
        *(p for f in files for p in (str(f.relative_to(package_dir)).encode(), f.read_bytes()))
    )


def cache_key(
    scenario_hash: str, data_hash: str, notebook_hash: str, code_hash: str, lang: str, case: str
) -> str:
    from balans import MODEL_VERSION

    parts = (scenario_hash, data_hash, MODEL_VERSION, notebook_hash, code_hash, lang, case)
    return _sha(*(p.encode() for p in parts))


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data.get("reports", {}) if data.get("format") == MANIFEST_FORMAT else {}


def _is_complete(out_dir: Path, entry: dict[str, Any]) -> bool:
    files = entry.get("files", {})
    if set(files) - {"pdf"} != {"notebook", "html", "key_figures"}:  # the paper: if made
        return False
    try:  # a 0-byte report (a full disk, a hand-emptied file) is not a report
        if not all((out_dir / f).stat().st_size > 0 for f in files.values()):
            return False
    except OSError:
        return False
    try:
        read_key_figures(out_dir / files["key_figures"])
    except (OSError, ValueError, BalansError):
        return False
    return True


def _write_manifest(path: Path, reports: dict[str, Any]) -> None:
    write_json_atomic(path, {"format": MANIFEST_FORMAT, "reports": reports})
