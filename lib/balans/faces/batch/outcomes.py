"""What became of each scenario in a batch, and of the batch as a whole (plain data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Outcome:
    """What became of one scenario in a batch."""

    name: str
    scenario_file: str
    status: str  # ok | cached | failed | invalid | interrupted
    message: str = ""
    scenario_name: str = ""
    scenario_hash: str = ""
    files: dict[str, str] = field(default_factory=dict)
    cell_index: int | None = None
    failed_notebook: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    stale_files: dict[str, str] = field(default_factory=dict)
    """A failed scenario's last good report, kept (marked stale) until a new one is made."""

    @property
    def made(self) -> bool:
        return self.status in ("ok", "cached")


@dataclass
class BatchResult:
    out_dir: Path
    outcomes: list[Outcome]
    interrupted: bool = False
    wall_s: float = 0.0

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status in ("failed", "invalid")]

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        return 1 if self.failures else 0
