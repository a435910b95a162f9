"""Finding and checking the scenario files a batch is asked to run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from balans.errors import BalansError, ScenarioError, cut

SCENARIO_SUFFIXES = (".yaml", ".yml")


class BatchError(BalansError):
    """Bad batch input: a missing folder or file, no scenarios, a name given twice."""


def find_scenarios(paths: Sequence[str | Path]) -> list[Path]:
    """Scenario files from folders (every ``*.yaml``/``*.yml`` in them) and files, in order."""
    if not paths:
        raise BatchError("no scenario folder or file given")
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.suffix in SCENARIO_SUFFIXES)
            if not files:
                raise BatchError(f"{p}: the folder holds no scenario files (*.yaml)")
            found += files
        elif p.is_file():
            found.append(p)
        else:
            raise BatchError(f"{p}: no such folder or file")
    stems: dict[str, Path] = {}
    for f in found:
        other = stems.setdefault(f.stem, f)
        if other != f:
            raise BatchError(
                f"two scenario files have the name '{f.stem}': {other} and {f}; "
                "their reports would overwrite each other, rename one"
            )
    return found


def invalid_message(path: Path, exc: Exception) -> str:
    """What a scenario file that cannot be loaded says in the batch's failures: a bad one
    its own message, any other error (even a file that cannot be read) short, with its path."""
    if isinstance(exc, ScenarioError):
        return str(exc)
    return (
        f"{cut(str(path), 300)}: the file could not be read "
        f"({type(exc).__name__}: {cut(str(exc), 300)})"
    )
