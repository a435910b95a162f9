"""Scenario batches: the report notebook, executed with papermill for every scenario file.

``balans batch scenarios/ --out build/batch --jobs 2`` writes, in the output folder::

    reports/<scenario>.ipynb              the executed notebook
    reports/<scenario>.html               the board report, without code
    reports/<scenario>.pdf                the board paper, A4 (balans.presentation.paper)
    reports/<scenario>.key_figures.json   its key figures (balans.presentation.report.key_figures)
    failed/<scenario>.ipynb               a notebook that failed, with its error, to read
    summary.csv, summary.xlsx             one row per scenario that ran
    comparison.svg, comparison.png        the deviation per scenario and year
    failures.json                         what failed and why ([] when nothing did), and
                                          the last good report kept for it, if any
    manifest.json                         what made each report (the cache)
    index.html                            links to all of it, offline

How it works, and why:

- Every scenario file is validated first; a bad one (whatever is wrong with it, even a
  file that cannot be read) is a failure with its message and is not run. The others go
  on. A failed scenario's last good report is kept, marked stale in the index and in
  ``failures.json`` (``stale_report``), until a new one is made: a typo loses nothing.
- Reports run in a pool of ``--jobs`` worker processes; each worker runs papermill, which
  starts its own kernel. Kernels talk over Unix sockets in a private folder
  (:class:`IsolatedKernelManager`), not TCP ports: parallel kernels picking free ports at
  the same moment can clash (papermill issue #511, "ZMQError: Address already in use").
- A report is built in a hidden temporary folder inside ``reports/`` and moved into place
  with ``os.replace`` file by file, once it is complete; the summaries and the index are
  written the same way. A crash or Ctrl-C leaves complete files or none: on Ctrl-C the
  pending reports are cancelled, the running ones stopped (their kernels killed, their
  temporary folders removed), and the reports already made stay in the manifest, so that
  the next run does not make them again.
- The cache: ``manifest.json`` keeps, per report, a key made of the scenario's hash, the
  data hash, the model version, the language, and hashes of the report notebook and of the
  package's source; a scenario whose key has not changed is not run again (``--force`` runs
  it anyway).

The rooms of this package:

- :mod:`.inputs`: finding and checking the scenario files;
- :mod:`.execute`: the pool of workers, each running papermill for one report at a time,
  with its kernel from :mod:`.kernels`;
- :mod:`.interrupt`: what Ctrl-C and the batch's death do to workers and kernels;
- :mod:`.atomic`: writing files so that they are complete or absent;
- :mod:`.manifest`: the cache of what made each report;
- :mod:`.outputs`: the summaries, the comparison chart, failures.json and the index page;
- :mod:`.outcomes`: what became of each scenario (plain data);
- here: :func:`run_batch`, which checks the input, takes the folder's lock and calls them.

Exit codes (:func:`balans.faces.cli.main`): 0 every report made, 1 some scenario failed (listed
on stderr), 2 bad command-line input, 130 interrupted.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from balans.errors import cut
from balans.faces.batch.atomic import atomic_path, remove_leftovers, write_json_atomic
from balans.faces.batch.execute import (
    CELL_TIMEOUT_S,
    KERNEL_START_TIMEOUT_S,
    Task,
    _run_pool,
    html_exporter,
    notebook_timings,
    report_html,
    run_report,
)
from balans.faces.batch.inputs import SCENARIO_SUFFIXES, BatchError, find_scenarios, invalid_message
from balans.faces.batch.kernels import IsolatedKernelManager, _short_tmp, kernel_log_tail
from balans.faces.batch.manifest import (
    MANIFEST_FORMAT,
    PACKAGE_DIR,
    _is_complete,
    _read_manifest,
    _sha,
    _write_manifest,
    cache_key,
    source_hash,
)
from balans.faces.batch.outcomes import BatchResult, Outcome
from balans.faces.batch.outputs import (
    SUMMARY_BASIS,
    comparison_frame,
    failures_list,
    index_html,
    outcome_dicts,
    summary_basis_frame,
    summary_frame,
    timings_frame,
    write_outputs,
)
from balans.inputs.case import load_case
from balans.inputs.scenario import load_scenario, path_problem
from balans.presentation.report import KEY_FIGURES_SUFFIX
from balans.resources import notebook, scenarios_dir

__all__ = [
    "CELL_TIMEOUT_S",
    "DEFAULT_NOTEBOOK",
    "KERNEL_START_TIMEOUT_S",
    "MANIFEST_FORMAT",
    "PACKAGE_DIR",
    "SCENARIO_SUFFIXES",
    "SUMMARY_BASIS",
    "BatchError",
    "BatchResult",
    "IsolatedKernelManager",
    "Outcome",
    "Task",
    "_is_complete",
    "_short_tmp",
    "atomic_path",
    "cache_key",
    "comparison_frame",
    "failures_list",
    "find_scenarios",
    "html_exporter",
    "index_html",
    "kernel_log_tail",
    "load_scenario",
    "notebook_timings",
    "outcome_dicts",
    "report_html",
    "run_batch",
    "run_report",
    "source_hash",
    "summary_basis_frame",
    "summary_frame",
    "timings_frame",
    "write_json_atomic",
    "write_outputs",
]

DEFAULT_NOTEBOOK = notebook("report")  # package data: balans/notebooks/report.ipynb


class _Progress:
    """tqdm's bar on a terminal; one line per report otherwise (CI logs)."""

    def __init__(self, total: int, stream: TextIO | None, enabled: bool) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.bar = None
        if enabled and stream is not None and total and stream.isatty():
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, unit="report", file=stream, desc="balans batch")
            except ImportError:  # pragma: no cover - tqdm comes with papermill
                self.bar = None
        self.lines = enabled and self.bar is None and stream is not None

    def update(self, o: Outcome) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.set_postfix_str(f"{o.name}: {o.status}")
            self.bar.update(1)
        elif self.lines:
            secs = o.timings.get("total_s")
            took = f" ({secs:.1f} s)" if secs else ""
            print(
                f"balans batch: [{self.done}/{self.total}] {o.name}: {o.status}{took}",
                file=self.stream,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@contextlib.contextmanager
def _lock(out_dir: Path) -> Iterator[None]:
    """One batch at a time writes to an output folder."""
    import fcntl

    fh = (out_dir / ".lock").open("w")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise BatchError(f"{out_dir}: another batch is writing to this folder") from None
        yield
    finally:
        fh.close()


def run_batch(
    paths: Sequence[str | Path],
    out_dir: str | Path,
    *,
    jobs: int = 1,
    lang: str = "sv",
    case_dir: str | Path | None = None,
    notebook: str | Path | None = None,
    force: bool = False,
    progress: bool = True,
    stream: TextIO | None = None,
    cutoff: str | None = None,
) -> BatchResult:
    """Make a report for every scenario file in ``paths`` (folders or files; none: the case's
    ``scenarios/`` folder) in ``out_dir``, ``jobs`` at a time. Raises :class:`BatchError` (or
    :class:`~balans.errors.DataError` for the case) for bad input before anything runs."""
    t_start = time.perf_counter()
    stream = sys.stderr if stream is None else stream
    if jobs < 1:
        raise BatchError(f"--jobs {jobs}: allowed 1 or more")
    if lang not in ("sv", "en"):
        raise BatchError(f"--lang {lang}: allowed sv, en")
    files = find_scenarios(paths or [scenarios_dir(case_dir)])
    nb_path = Path(notebook) if notebook else DEFAULT_NOTEBOOK
    if not nb_path.is_file():
        raise BatchError(f"{nb_path}: the report notebook does not exist")
    case = load_case(case_dir, cutoff=cutoff)
    out = Path(out_dir)
    try:
        if out.exists() and not out.is_dir():
            raise BatchError(f"{out}: exists and is not a folder")
        out.mkdir(parents=True, exist_ok=True)
        (out / ".lock").touch()
    except OSError as exc:
        raise BatchError(
            f"{cut(str(out), 300)}: --out cannot be written: {path_problem(out, exc)}"
        ) from None

    with _lock(out):
        remove_leftovers(out)  # left by a killed batch
        manifest_path = out / "manifest.json"
        manifest = _read_manifest(manifest_path)
        nb_hash = _sha(nb_path.read_bytes())
        code_hash = source_hash()
        case_text = f"{case.folder.resolve()}@{case.cutoff[0]}-{case.cutoff[1]:02d}"

        outcomes: dict[str, Outcome] = {}
        tasks: list[tuple[Task, str]] = []
        for f in files:
            name = f.stem
            try:  # looked up here, in balans.faces.batch, so that a test can stand in for it
                scenario = load_scenario(f)
            except Exception as exc:  # a bad file, or one that cannot be read at all
                outcomes[name] = Outcome(name, str(f), "invalid", message=invalid_message(f, exc))
                continue
            key = cache_key(scenario.hash, case.data_hash, nb_hash, code_hash, lang, case_text)
            entry = manifest.get(name, {})
            if not force and entry.get("key") == key and _is_complete(out, entry):
                outcomes[name] = Outcome(
                    name,
                    str(f),
                    "cached",
                    scenario_name=scenario.name,
                    scenario_hash=scenario.hash,
                    files=entry["files"],
                )
                continue
            task = Task(
                name,
                str(f.resolve()),
                str(out.resolve()),
                str(nb_path.resolve()),
                lang,
                str(Path(case_dir).resolve()) if case_dir else "",
                cutoff or "",
            )
            tasks.append((task, key))

        bar = _Progress(len(tasks), stream, progress)
        interrupted = False

        given = {f.stem: str(f) for f in files}

        def record(o: Outcome, key: str | None) -> None:
            o.scenario_file = given.get(o.name, o.scenario_file)  # as the user named it
            outcomes[o.name] = o
            if o.status == "ok" and key:
                manifest[o.name] = {
                    "key": key,
                    "scenario_file": o.scenario_file,
                    "scenario_hash": o.scenario_hash,
                    "files": o.files,
                    "timings": o.timings,
                }
            # a failure keeps the last good report's entry: it is kept, marked stale (below)
            _write_manifest(manifest_path, manifest)
            bar.update(o)

        try:
            if tasks:
                interrupted = _run_pool(tasks, jobs, record)
        finally:
            bar.close()
        for name, o in outcomes.items():
            # a failed scenario's last good report is not current, but a typo must not lose
            # it: it stays, marked stale, until a new one is made
            if o.status in ("failed", "invalid"):
                entry = manifest.get(name, {})
                if _is_complete(out, entry):
                    o.stale_files = dict(entry["files"])
                else:
                    manifest.pop(name, None)
                    for suffix in (".ipynb", ".html", KEY_FIGURES_SUFFIX, ".pdf"):
                        (out / "reports" / f"{name}{suffix}").unlink(missing_ok=True)
        _write_manifest(manifest_path, manifest)

        ordered = [outcomes[f.stem] for f in files if f.stem in outcomes]
        result = BatchResult(out, ordered, interrupted)
        if not interrupted:
            write_outputs(result, lang, case)
        result.wall_s = time.perf_counter() - t_start
        return result
