"""Batch reports: sequential against parallel, and where the time of one report goes.

Runs ``balans batch`` (through :func:`balans.faces.batch.run_batch`, every report made anew) over
the shipped scenarios and over 20 generated scenario files (written to
``build/bench_batch/generated``), once with one worker and once with two. Prints one JSON
line:

  <set>.n                     scenarios in the set (shipped, generated)
  <set>.sequential_s          wall time with --jobs 1
  <set>.parallel_s            wall time with --jobs 2
  <set>.speedup               sequential_s / parallel_s (the limit on 2 cores is 2)
  <set>.per_report_s          sequential_s / n
  <set>.per_report_overhead_s per report, everything but its own cells: kernel start,
                              papermill's work and the HTML conversion (sequential run)
  <set>.breakdown_s           per report, mean seconds (sequential run): kernel_start (the
                              notebook's start to its first cell), imports (the cell tagged
                              imports), execution (the other cells: the model, the summary,
                              the SVG charts), papermill_other (reading, parameters, writing
                              the notebook), html (nbconvert); measured from papermill's own
                              cell times and the worker's clock
  <set>.parallel_breakdown_s  the same for the parallel run (two kernels share two cores)
  <set>.cells_s               per report cell (by id), mean seconds (sequential run): the
                              cells with charts (forecast, bridge, staffing, access) hold
                              the SVG rendering; the first of them starts vl-convert's V8
  <set>.fixed_s               the batch's own time beyond its reports: starting the worker
                              processes, validating, the summaries, the chart and the index
  import_report_s             a fresh Python importing balans.presentation.report (what a kernel does)
  import_deferred_s           what that import would cost more without the deferral of
                              rfc3987_syntax in balans.presentation.report (its parser, built at import)

    python benchmarks/bench_batch.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

from balans.faces.batch import run_batch, timings_frame
from balans.resources import scenarios_dir

BUILD = Path(__file__).resolve().parents[1] / "build" / "bench_batch"  # the checkout's build/
PARTS = ("kernel_start_s", "imports_s", "execution_s", "papermill_other_s", "html_s")


def generated_scenarios(folder: Path, n: int, seed: int = 7) -> list[Path]:
    """``n`` scenario files with different levers moved (deterministic)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = random.Random(seed)
    paths = []
    for i in range(n):
        levers: dict = {"drug_cost_growth_pct": round(rng.uniform(6, 14), 1)}
        if i % 2 == 0:
            own = rng.choice([20, 40, 60])
            levers["agency"] = {
                "change_pct": -rng.choice([20, 40, 60, 80]),
                "start": "2024-02",
                "replacement": {
                    "own_staff_pct": own,
                    "purchased_care_pct": 20,
                    "not_replaced_pct": 80 - own,
                },
            }
        if i % 3 == 0:
            levers["staffing_reduction"] = {
                "target_pct": rng.choice([2, 4, 6]),
                "start": "2024-01",
                "ramp_months": 12,
            }
        if i % 4 == 0:
            levers["rest_rule"] = {"start": "2023-10", "extra_need_pct": rng.choice([2, 3, 4])}
        if i % 5 == 0:
            levers["measures"] = [{"name": "Inköp", "mkr_per_year": 50 + 10 * i}]
            levers["realisation_pct"] = rng.choice([37, 60, 100])
        data = {"name": f"Genererat scenario {i + 1:02d}", "levers": levers}
        path = folder / f"generated_{i + 1:02d}.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
        paths.append(path)
    return paths


def cell_seconds(out: Path) -> dict[str, float]:
    """Mean seconds per report cell (by cell id), from papermill's times in the notebooks."""
    per_cell: dict[str, list[float]] = {}
    for path in (out / "reports").glob("*.ipynb"):
        for c in nbformat.read(path, as_version=4).cells:
            pm = c.get("metadata", {}).get("papermill", {})
            if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", []):
                per_cell.setdefault(c.get("id", "?"), []).append(pm.get("duration") or 0.0)
    return {k: round(statistics.mean(v), 3) for k, v in per_cell.items()}


def timed_batch(files: list[Path], out: Path, jobs: int) -> tuple[float, dict, float, dict]:
    shutil.rmtree(out, ignore_errors=True)
    result = run_batch(files, out, jobs=jobs, force=True, progress=False)
    if result.exit_code != 0:
        raise SystemExit(f"the batch failed: {[(o.name, o.message) for o in result.failures]}")
    t = timings_frame(result)
    mean = {p.removesuffix("_s"): round(float(t[p].mean()), 3) for p in PARTS}
    work = float(t.total_s.sum()) / jobs
    return result.wall_s, mean, max(result.wall_s - work, 0.0), cell_seconds(out)


def bench_set(files: list[Path], name: str) -> dict:
    seq_s, seq_parts, seq_fixed, cells = timed_batch(files, BUILD / f"{name}_sequential", 1)
    par_s, par_parts, _, _ = timed_batch(files, BUILD / f"{name}_parallel", 2)
    n = len(files)
    return {
        "n": n,
        "sequential_s": round(seq_s, 2),
        "parallel_s": round(par_s, 2),
        "speedup": round(seq_s / par_s, 2),
        "per_report_s": round(seq_s / n, 2),
        "per_report_overhead_s": round(sum(v for k, v in seq_parts.items() if k != "execution"), 2),
        "breakdown_s": seq_parts,
        "parallel_breakdown_s": par_parts,
        "fixed_s": round(seq_fixed, 2),
        "cells_s": cells,
    }


def import_seconds(code: str, repeats: int) -> float:
    """Median seconds a fresh interpreter takes to run ``code`` (after start-up)."""
    prog = f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", prog], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(repeats)
    ]
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 shipped and 4 generated scenarios")
    args = ap.parse_args()
    shipped = sorted(scenarios_dir().glob("*.yaml"))
    n_generated = 20
    if args.quick:
        shipped, n_generated = shipped[:3], 4
    generated = generated_scenarios(BUILD / "generated", n_generated)
    repeats = 1 if args.quick else 3
    out = {
        "benchmark": "batch",
        "quick": args.quick,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "shipped": bench_set(shipped, "shipped"),
        "generated": bench_set(generated, "generated"),
        "import_report_s": round(import_seconds("import balans.presentation.report", repeats), 2),
        "import_deferred_s": round(import_seconds("import rfc3987_syntax", repeats), 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
