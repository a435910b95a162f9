"""Scenario batches: the report notebook, executed with papermill for every scenario file.

``balans batch scenarios/ --out build/batch --jobs 2`` writes, in the output folder::

    reports/<scenario>.ipynb              the executed notebook
    reports/<scenario>.html               the board report, without code
    reports/<scenario>.pdf                the board paper, A4 (balans.paper)
    reports/<scenario>.key_figures.json   its key figures (balans.report.key_figures)
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

Exit codes (:func:`balans.cli.main`): 0 every report made, 1 some scenario failed (listed
on stderr), 2 bad command-line input, 130 interrupted.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from .atomic import atomic_path, write_text_atomic
from .case import load_case
from .errors import BalansError, ScenarioError, cut
from .fmt import label, number
from .report import KEY_FIGURES_SUFFIX, read_key_figures
from .resources import notebook, scenarios_dir
from .scenario import load_scenario, path_problem

DEFAULT_NOTEBOOK = notebook("report")  # package data: balans/notebooks/report.ipynb
PACKAGE_DIR = Path(__file__).resolve().parent
MANIFEST_FORMAT = "balans.batch_manifest/1"
SCENARIO_SUFFIXES = (".yaml", ".yml")
CELL_TIMEOUT_S = 600
KERNEL_START_TIMEOUT_S = 120


def _short_tmp() -> str:
    """The temporary folder, unless its path leaves too little room for a socket's name
    (``<dir>/balans-k-XXXXXXXX/kernel-<uuid>-ipc-N`` must stay under ~100 characters):
    then ``/tmp``."""
    tmp = tempfile.gettempdir()
    return tmp if len(tmp) <= 30 or not os.path.isdir("/tmp") else "/tmp"


class BatchError(BalansError):
    """Bad batch input: a missing folder or file, no scenarios, a name given twice."""


# --------------------------------------------------------------------------- inputs


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


# --------------------------------------------------------------------------- atomic files


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


# --------------------------------------------------------------------------- the worker


try:  # the kernel manager lives in the worker processes; jupyter_client is a papermill dependency
    from jupyter_client.manager import AsyncKernelManager
except ImportError:  # pragma: no cover
    AsyncKernelManager = object  # type: ignore[assignment,misc]

_LIVE_KERNELS: set[Any] = set()


class IsolatedKernelManager(AsyncKernelManager):  # type: ignore[misc,valid-type]
    """A kernel that talks over Unix sockets in a private temporary folder.

    Parallel kernels on TCP pick "free" ports by binding to port 0 and letting go, so two
    kernels starting at the same moment can be handed the same port (papermill #511).
    Sockets in a folder of their own cannot clash. The folder is kept short (the system's
    temporary folder) because a Unix socket path has a limit of about 100 characters."""

    def __init__(self, **kwargs: Any) -> None:
        if os.name == "nt":  # pragma: no cover - no Unix sockets: jupyter_client's own ports
            super().__init__(**kwargs)
            self.socket_dir = None
            return
        self.socket_dir = tempfile.mkdtemp(prefix="balans-k-", dir=_short_tmp())
        kernel_id = str(uuid.uuid4())
        kwargs.setdefault("transport", "ipc")
        kwargs.setdefault("kernel_id", kernel_id)
        kwargs.setdefault(
            "connection_file", os.path.join(self.socket_dir, f"kernel-{kernel_id}.json")
        )
        super().__init__(**kwargs)
        self.log_path = os.path.join(self.socket_dir, "kernel.log")
        _LIVE_KERNELS.add(self)

    async def start_kernel(self, **kwargs: Any) -> None:
        """Start the kernel with its own output (log lines such as the "KeyboardInterrupt
        caught in kernel" that jupyter_client's shutdown provokes) in a log file, not on
        the batch's terminal; :func:`kernel_log_tail` reads it back when a report fails."""
        if self.socket_dir and "stderr" not in kwargs:
            with open(self.log_path, "ab") as log:  # the kernel process keeps its own handle
                kwargs["stdout"] = kwargs["stderr"] = log
                await super().start_kernel(**kwargs)
        else:
            await super().start_kernel(**kwargs)
        if _SIGNALS["interrupted"]:  # Ctrl-C came while the kernel was starting
            _on_sigint(signal.SIGINT, None)


def kernel_log_tail(lines: int = 8) -> str:
    """The last lines the kernels of this worker wrote (for a failure's message)."""
    out = []
    for km in _LIVE_KERNELS:
        path = getattr(km, "log_path", None)
        if path and os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as fh:
                out += fh.read().splitlines()[-lines:]
    return "\n".join(out)


def _stop_leftover_kernels() -> None:
    """Kill any kernel this worker started that is still alive (after an interrupt), and
    remove the kernels' socket folders."""
    for km in list(_LIVE_KERNELS):
        proc = getattr(getattr(km, "provisioner", None), "process", None)
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(Exception):
                proc.kill()
                proc.wait(10)
        if km.socket_dir:
            shutil.rmtree(km.socket_dir, ignore_errors=True)
        _LIVE_KERNELS.discard(km)


# Ctrl-C in a worker stops the running report by killing its kernel: papermill then fails
# at once (DeadKernelError), the report is given up, its temporary folder removed. No
# KeyboardInterrupt is raised at an arbitrary point (one raised inside a weakref callback is
# printed and lost); a report already past its kernel finishes and is kept, complete.
_SIGNALS = {"interrupted": False}


def _on_sigint(signum: int, frame: Any) -> None:
    _SIGNALS["interrupted"] = True
    for km in list(_LIVE_KERNELS):
        proc = getattr(getattr(km, "provisioner", None), "process", None)
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(Exception):
                proc.kill()


def _die_with_parent() -> None:
    """Linux: the worker is killed when the batch process dies, ``kill -9`` included, so no
    worker goes on writing reports outside the folder lock while a rerun starts beside it;
    its kernel follows (ipykernel exits when its parent does). Elsewhere a no-op."""
    if not sys.platform.startswith("linux"):  # pragma: no cover
        return
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - no prctl
        return
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # it died before the prctl
        os._exit(1)


def _init_worker() -> None:
    """A worker process: dies with the batch, our SIGINT handler, and papermill and nbconvert
    imported once here rather than inside the first report's time."""
    _die_with_parent()
    signal.signal(signal.SIGINT, _on_sigint)
    # papermill's and nbclient's log lines ("Kernel died ...") would reach the terminal from
    # every worker; the batch reports each failure itself, with its cause
    logging.getLogger("papermill").setLevel(logging.CRITICAL)
    import papermill  # noqa: F401

    html_exporter()


_TEMPLATE = """{%- extends 'index.html.j2' -%}
{#- JupyterLab's HTML template, without the scripts it loads from a CDN (require.js,
    MathJax, Mermaid): a board report has static SVG charts and must open offline. -#}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""
_EXPORTER: Any = None


def html_exporter() -> Any:
    """nbconvert's HTML exporter for a board report: no code cells, no prompts, no cell
    tagged ``remove_cell``, no script from a CDN (built once per process)."""
    global _EXPORTER
    if _EXPORTER is None:
        from jinja2 import DictLoader
        from nbconvert import HTMLExporter
        from traitlets.config import Config

        c = Config()
        c.TagRemovePreprocessor.enabled = True
        c.TagRemovePreprocessor.remove_cell_tags = {"remove_cell"}
        _EXPORTER = HTMLExporter(
            config=c,
            template_name="lab",
            extra_loaders=[DictLoader({"balans_report.html.j2": _TEMPLATE})],
            template_file="balans_report.html.j2",
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
        )
    return _EXPORTER


def report_html(nb: Any, title: str, lang: str = "sv") -> str:
    """The executed notebook as a board report in HTML (see :func:`html_exporter`)."""
    exporter = html_exporter()
    exporter.language_code = lang
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body


def _seconds(start: str | None, end: str | None) -> float:
    if not start or not end:
        return 0.0
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def notebook_timings(nb: Any) -> dict[str, float]:
    """Where a papermill run's time went, from the times papermill records: kernel start
    (the notebook's start to the first cell's), imports (the cell tagged ``imports``) and
    execution (every other cell)."""
    pm = nb.metadata.get("papermill", {})
    code = [c for c in nb.cells if c.cell_type == "code"]
    first = next((c.metadata.get("papermill", {}).get("start_time") for c in code), None)
    imports = execution = 0.0
    for c in code:
        d = c.metadata.get("papermill", {}).get("duration") or 0.0
        if "imports" in c.metadata.get("tags", []):
            imports += d
        else:
            execution += d
    return {
        "kernel_start_s": _seconds(pm.get("start_time"), first),
        "imports_s": imports,
        "execution_s": execution,
    }


def _keep_failed(task: Task, nb_tmp: Path) -> str | None:
    """Move a failed run's notebook (papermill saves it with the error) to ``failed/``."""
    if not nb_tmp.is_file():
        return None
    failed = Path(task.out_dir) / "failed" / f"{task.name}.ipynb"
    failed.parent.mkdir(exist_ok=True)
    os.replace(nb_tmp, failed)
    return f"failed/{failed.name}"


def _unfinished_cell(nb_path: Path) -> tuple[int, str] | None:
    """The cell a run stopped in (papermill marks it), with its first line."""
    import nbformat

    try:
        nb = nbformat.read(nb_path, as_version=4)
    except Exception:
        return None
    for i, c in enumerate(nb.cells):
        pm = c.get("metadata", {}).get("papermill", {})
        if pm.get("exception") or pm.get("status") in ("running", "failed"):
            return i, _first_line(c.source)
    return None


def _first_line(source: str | None) -> str:
    lines = (source or "").strip().splitlines()
    return lines[0] if lines else ""


@dataclass
class Task:
    """One report to make (plain data: it crosses to a worker process)."""

    name: str
    scenario_file: str
    out_dir: str
    notebook: str
    lang: str
    case_dir: str
    cutoff: str = ""  # the close, empty: the latest


def run_report(task: Task) -> dict[str, Any]:
    """Execute the report notebook for one scenario and move its files into place.

    Runs in a worker process. Returns an outcome (a dict): ``status`` ``ok``, ``failed`` or
    ``interrupted``; for a failure the message, and for a notebook failure the cell."""
    t0 = time.perf_counter()
    out = {"name": task.name, "scenario_file": task.scenario_file, "status": "failed"}
    if _SIGNALS["interrupted"]:
        return out | {"status": "interrupted", "message": "interrupted before it started"}
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    reports = Path(task.out_dir) / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{task.name}.", suffix=".tmp", dir=reports))
    nb_tmp = work / f"{task.name}.ipynb"
    interrupted = {"status": "interrupted", "message": "interrupted"}
    try:
        try:
            nb = pm.execute_notebook(
                task.notebook,
                str(nb_tmp),
                parameters={
                    "scenario_file": task.scenario_file,
                    "out_dir": str(work),
                    "lang": task.lang,
                    "case_dir": task.case_dir,
                    "cutoff": task.cutoff,
                },
                kernel_name="python3",
                progress_bar=False,
                cwd=str(Path(task.notebook).parent),
                start_timeout=KERNEL_START_TIMEOUT_S,
                execution_timeout=CELL_TIMEOUT_S,
                request_save_on_cell_execute=False,
                kernel_manager_class=IsolatedKernelManager,
            )
        except PapermillExecutionError as exc:
            if _SIGNALS["interrupted"]:  # the kernel had Ctrl-C too (a terminal's group)
                return out | interrupted
            return out | {
                "message": f"cell {exc.cell_index} (In [{exc.exec_count}]) "
                f"`{_first_line(exc.source)}`: {exc.ename}: {cut(exc.evalue)}",
                "cell_index": exc.cell_index,
                "failed_notebook": _keep_failed(task, nb_tmp),
            }
        except Exception as exc:  # the kernel died, timed out, the notebook is unreadable...
            if _SIGNALS["interrupted"]:  # we killed the kernel
                return out | interrupted
            message = f"{type(exc).__name__}: {cut(str(exc))}".strip()
            cell = _unfinished_cell(nb_tmp)
            if cell is not None:
                message = f"cell {cell[0]} `{cell[1]}`: {message}"
            tail = kernel_log_tail()
            return out | {
                "message": message + (f"\nkernel log:\n{tail}" if tail else ""),
                "cell_index": cell[0] if cell else None,
                "failed_notebook": _keep_failed(task, nb_tmp),
            }
        t1 = time.perf_counter()
        timings = notebook_timings(nb)
        figures = work / f"{task.name}{KEY_FIGURES_SUFFIX}"
        if not figures.is_file():
            return out | {
                "message": f"the notebook did not record its key figures ({figures.name})"
            }
        key = read_key_figures(figures)
        page = report_html(nb, key["scenario"]["name"], task.lang)
        (work / f"{task.name}.html").write_text(page, encoding="utf-8")
        t2 = time.perf_counter()
        files = {
            "notebook": f"reports/{task.name}.ipynb",
            "html": f"reports/{task.name}.html",
            "key_figures": f"reports/{task.name}{KEY_FIGURES_SUFFIX}",
        }
        if (work / f"{task.name}.pdf").is_file():  # the board paper (the shipped notebook's)
            files["pdf"] = f"reports/{task.name}.pdf"
        for rel in files.values():
            os.replace(work / Path(rel).name, Path(task.out_dir) / rel)
        (Path(task.out_dir) / "failed" / f"{task.name}.ipynb").unlink(missing_ok=True)
        total = time.perf_counter() - t0
        papermill_s = t1 - t0
        notebook_s = sum(timings.values())
        return out | {
            "status": "ok",
            "files": files,
            "scenario_name": key["scenario"]["name"],
            "scenario_hash": key["scenario"]["hash"],
            "timings": timings
            | {
                "papermill_other_s": max(papermill_s - notebook_s, 0.0),
                "html_s": t2 - t1,
                "total_s": total,
            },
        }
    except Exception as exc:
        return out | {"message": f"{type(exc).__name__}: {cut(str(exc))}".strip()}
    finally:
        _stop_leftover_kernels()
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------- the batch


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


def cache_key(
    scenario_hash: str, data_hash: str, notebook_hash: str, code_hash: str, lang: str, case: str
) -> str:
    from . import MODEL_VERSION

    parts = (scenario_hash, data_hash, MODEL_VERSION, notebook_hash, code_hash, lang, case)
    return _sha(*(p.encode() for p in parts))


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
        for stale in (out / "reports").glob(".*.tmp"):  # left by a killed batch
            shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink()
        for stale in out.glob(".*.tmp"):
            stale.unlink(missing_ok=True)
        manifest_path = out / "manifest.json"
        manifest = _read_manifest(manifest_path)
        nb_hash = _sha(nb_path.read_bytes())
        code_hash = source_hash()
        case_text = f"{case.folder.resolve()}@{case.cutoff[0]}-{case.cutoff[1]:02d}"

        outcomes: dict[str, Outcome] = {}
        tasks: list[tuple[Task, str]] = []
        for f in files:
            name = f.stem
            try:
                scenario = load_scenario(f)
            except ScenarioError as exc:
                outcomes[name] = Outcome(name, str(f), "invalid", message=str(exc))
                continue
            except Exception as exc:
                outcomes[name] = Outcome(
                    name,
                    str(f),
                    "invalid",
                    message=f"{cut(str(f), 300)}: the file could not be read "
                    f"({type(exc).__name__}: {cut(str(exc), 300)})",
                )
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
            write_json_atomic(manifest_path, {"format": MANIFEST_FORMAT, "reports": manifest})
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
        write_json_atomic(manifest_path, {"format": MANIFEST_FORMAT, "reports": manifest})

        ordered = [outcomes[f.stem] for f in files if f.stem in outcomes]
        result = BatchResult(out, ordered, interrupted)
        if not interrupted:
            write_outputs(result, lang, case)
        result.wall_s = time.perf_counter() - t_start
        return result


def _run_pool(
    tasks: list[tuple[Task, str]], jobs: int, record: Callable[[Outcome, str | None], None]
) -> bool:
    """Run the tasks in ``jobs`` worker processes; ``record`` each outcome as it comes.
    Returns whether the batch was interrupted (Ctrl-C)."""
    ctx = multiprocessing.get_context("spawn")  # clean workers: no state forked from here
    pool = ProcessPoolExecutor(
        max_workers=min(jobs, len(tasks)), mp_context=ctx, initializer=_init_worker
    )
    futures: dict[Future, tuple[Task, str]] = {pool.submit(run_report, t): (t, k) for t, k in tasks}
    pending = set(futures)
    stop = {"flag": False}  # Ctrl-C (see on_sigint below)

    def take(fut: Future) -> None:
        task, key = futures[fut]
        try:
            raw = fut.result()
        except Exception as exc:  # a worker died (killed, out of memory, Ctrl-C at its start)
            raw = {
                "name": task.name,
                "scenario_file": task.scenario_file,
                "status": "interrupted" if stop["flag"] else "failed",
                "message": f"the worker process failed: {type(exc).__name__}: {exc}",
            }
        known = {f for f in Outcome.__dataclass_fields__}
        record(Outcome(**{k: v for k, v in raw.items() if k in known}), key)

    # Ctrl-C here only raises a flag (and passes the signal on to the workers, which kill
    # their kernels): the loop below then cancels what has not started and collects the
    # rest. A KeyboardInterrupt could be lost in a weakref callback; a flag cannot.

    def on_sigint(signum: int, frame: Any) -> None:
        stop["flag"] = True
        for pid in list(getattr(pool, "_processes", None) or {}):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGINT)

    try:
        old = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread: Ctrl-C is not ours to handle
        old = None
    try:
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for fut in done:
                take(fut)
            if stop["flag"]:
                for fut in list(pending):
                    if fut.cancel():
                        pending.discard(fut)
                        task, _ = futures[fut]
                        record(
                            Outcome(task.name, task.scenario_file, "interrupted", "not started"),
                            None,
                        )
        return stop["flag"]
    finally:
        if old is not None:
            signal.signal(signal.SIGINT, old)
        pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------- summaries


def summary_frame(result: BatchResult) -> Any:
    """One row per report made: the scenario and, per year, forecast, budget, deviation,
    change against the baseline, revenue and gross cost (mkr), and the stamp."""
    import pandas as pd

    rows = []
    for o in result.outcomes:
        if not o.made:
            continue
        k = read_key_figures(result.out_dir / o.files["key_figures"])
        row: dict[str, Any] = {
            "scenario": o.name,
            "name": k["scenario"]["name"],
            "scenario_file": o.scenario_file,
            "scenario_hash": k["scenario"]["hash"],
        }
        for y in k["years"]:
            for f in (
                "forecast_net_mkr",
                "budget_net_mkr",
                "deviation_mkr",
                "change_vs_baseline_mkr",
                "revenue_mkr",
                "gross_cost_mkr",
                "year_end_agency_share_pct",
                "not_delivered_hours",
            ):
                row[f"{f}_{y['year']}"] = y[f]
        row |= {
            "model_version": k["stamp"]["model_version"],
            "data_hash": k["stamp"]["data_hash"],
            "report_html": o.files["html"],
        }
        rows.append(row)
    return pd.DataFrame(rows)


def comparison_frame(result: BatchResult) -> Any:
    """The shape :func:`balans.charts.comparison_chart` takes (as from ``compare_frame``)."""
    import pandas as pd

    rows = []
    for o in result.outcomes:
        if o.made:
            k = read_key_figures(result.out_dir / o.files["key_figures"])
            for y in k["years"]:
                rows.append(
                    {
                        "scenario": o.name,
                        "name": k["scenario"]["name"],
                        "year": y["year"],
                        "forecast_net_mkr": y["forecast_net_mkr"],
                        "budget_net_mkr": y["budget_net_mkr"],
                        "deviation_mkr": y["deviation_mkr"],
                        "change_vs_baseline_mkr": y["change_vs_baseline_mkr"],
                        "scenario_hash": k["scenario"]["hash"],
                    }
                )
    return pd.DataFrame(rows)


def failures_list(result: BatchResult) -> list[dict[str, Any]]:
    return [
        {
            "scenario": o.name,
            "scenario_file": o.scenario_file,
            "kind": "invalid scenario file" if o.status == "invalid" else "notebook failed",
            "message": o.message,
            "cell_index": o.cell_index,
            "failed_notebook": o.failed_notebook,
            "stale_report": o.stale_files.get("html"),
        }
        for o in result.failures
    ]


def write_outputs(result: BatchResult, lang: str = "sv", case: Any = None) -> None:
    """summary.csv/.xlsx, the comparison chart (SVG, PNG), failures.json and index.html,
    each written atomically. summary.csv keeps the program's column names; summary.xlsx is
    the planners' (:func:`balans.excel.summary_workbook`)."""
    from .excel import summary_workbook
    from .fmt import month_name
    from .summary import standing_text

    out = result.out_dir
    summary = summary_frame(result)
    with atomic_path(out / "summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
    if case is not None:
        case_name, close = case.name, standing_text(case, lang)
    else:  # from the reports' own stamps (the case's id and close)
        stamps = [
            read_key_figures(out / o.files["key_figures"])["stamp"]
            for o in result.outcomes
            if o.made
        ]
        case_name = ", ".join(sorted({s["case"] for s in stamps}))
        close = ", ".join(sorted({month_name(s["cutoff"], lang) for s in stamps}))
    workbook = summary_workbook(
        summary, summary_basis_frame(summary, lang), case_name, close, lang, case
    )
    with atomic_path(out / "summary.xlsx") as tmp:
        tmp.write_bytes(workbook)
    comparison = comparison_frame(result)
    if not comparison.empty:
        import vl_convert as vlc

        from .charts import comparison_chart, spec

        chart = spec(comparison_chart(comparison, lang))
        write_text_atomic(out / "comparison.svg", vlc.vegalite_to_svg(chart))
        with atomic_path(out / "comparison.png") as tmp:
            tmp.write_bytes(vlc.vegalite_to_png(chart, scale=2))
    else:
        for name in ("comparison.svg", "comparison.png"):
            (out / name).unlink(missing_ok=True)
    write_json_atomic(out / "failures.json", failures_list(result))
    write_text_atomic(out / "index.html", index_html(result, summary, lang))


# the summary's figures per year: the net budget is the board's own, the rest the model's
SUMMARY_BASIS = {"budget_net_mkr": "document"}


def summary_basis_frame(summary: Any, lang: str = "sv") -> Any:
    """The summary's basis sheet: what the summary holds (board totals only; divisions and
    account budgets, allocated or derived, are in the reports), then per figure column its
    basis (document, forecast) and what that means."""
    import pandas as pd

    def t(key: str) -> str:
        return label(f"basis.{key}", lang)

    rows = [{t("sheet.column"): "", t("sheet.word"): "", t("sheet.meaning"): t("note.summary")}]
    for col in summary.columns:
        stem, _, year = col.rpartition("_")
        if not (year.isdigit() and stem):
            continue
        code = SUMMARY_BASIS.get(stem, "forecast")
        note = t("note.board_document") if code == "document" else t("note.forecast")
        rows.append(
            {t("sheet.column"): col, t("sheet.word"): t(f"word.{code}"), t("sheet.meaning"): note}
        )
    return pd.DataFrame(rows)


def index_html(result: BatchResult, summary: Any, lang: str = "sv") -> str:
    """The batch's front page: every report, the summaries, the chart, the failures. Plain
    HTML, nothing loaded from elsewhere."""
    from . import MODEL_VERSION

    def t(key: str, **kw: Any) -> str:
        return html.escape(label(f"report.index.{key}", lang).format(**kw))

    e = html.escape
    by_name = {r["scenario"]: r for r in summary.to_dict("records")} if len(summary) else {}
    years = sorted(
        {int(c.rsplit("_", 1)[1]) for c in summary.columns if c.startswith("deviation_mkr_")}
    )
    head = "".join(
        f"<th>{t('forecast_year', year=y)}</th><th>{t('deviation_year', year=y)}</th>"
        for y in years
    )
    rows = []
    for o in result.outcomes:
        status = t(f"status_{'run' if o.status == 'ok' else o.status}")
        if o.made:
            links = " · ".join(
                f'<a href="{e(o.files[k])}">{t(text)}</a>'
                for k, text in (
                    ("html", "report"),
                    ("pdf", "pdf"),
                    ("notebook", "notebook"),
                    ("key_figures", "key_figures"),
                )
                if k in o.files
            )
            r = by_name[o.name]
            cells = "".join(
                f'<td class="n">{e(number(r[f"forecast_net_mkr_{y}"], 0, lang))}</td>'
                f'<td class="n">{e(number(r[f"deviation_mkr_{y}"], 0, lang, signed=True))}</td>'
                for y in years
            )
            name = f'<a href="{e(o.files["html"])}">{e(r["name"])}</a>'
        else:
            links, cells = "", "<td></td><td></td>" * len(years)
            name = e(o.name)
            if o.stale_files:
                links = f'<a href="{e(o.stale_files["html"])}">{t("stale_report")}</a>'
        rows.append(
            f"<tr><td>{name}</td><td><code>{e(Path(o.scenario_file).name)}</code></td>"
            f"<td>{status}</td>{cells}<td>{links}</td></tr>"
        )
    fails = []
    for o in result.failures:
        extra = (
            f' (<a href="{e(o.failed_notebook)}">{t("failed_notebook")}</a>)'
            if o.failed_notebook
            else ""
        )
        fails.append(f"<li><b>{e(o.name)}</b>{extra}<pre>{e(o.message)}</pre></li>")
    downloads = [("summary.csv", "summary_csv"), ("summary.xlsx", "summary_xlsx")]
    has_chart = (result.out_dir / "comparison.svg").is_file() and len(summary)
    if has_chart:
        downloads += [("comparison.svg", "chart_svg"), ("comparison.png", "chart_png")]
    downloads.append(("failures.json", "failures_json"))
    stamp_data = {"model_version": MODEL_VERSION, "data_hash": "–"}
    if len(summary):
        stamp_data["data_hash"] = str(summary.data_hash.iloc[0])
    created = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    style = (
        "body{font-family:'Source Sans Pro',Helvetica,Arial,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}"
        "table{border-collapse:collapse}th,td{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:left}"
        "td.n{text-align:right}pre{white-space:pre-wrap;background:#f6f6f6;padding:.5rem}"
        "img{max-width:100%}.stamp{color:#555;font-size:.9rem}"
    )
    chart = (
        f'<h2>{t("comparison")}</h2><img src="comparison.svg" alt="{t("comparison")}">'
        if has_chart
        else ""
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{t('title')}</title><style>{style}</style></head><body>"
        f"<h1>{t('title')}</h1><p>{t('intro')}</p>"
        f"<h2>{t('reports')}</h2><table><thead><tr><th>{t('scenario')}</th><th>{t('file')}</th>"
        f"<th>{t('status')}</th>{head}<th></th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"{chart}<h2>{t('downloads')}</h2><ul>"
        + "".join(f'<li><a href="{f}">{t(k)}</a></li>' for f, k in downloads)
        + f"</ul><h2>{t('failures')}</h2>"
        + (f"<ul>{''.join(fails)}</ul>" if fails else f"<p>{t('no_failures')}</p>")
        + f'<p class="stamp">{t("stamp", created=created, **stamp_data)}</p></body></html>\n'
    )


def timings_frame(result: BatchResult) -> Any:
    """Per report that ran: kernel start, imports, execution, papermill's own work, HTML."""
    import pandas as pd

    return pd.DataFrame(
        [{"scenario": o.name, **o.timings} for o in result.outcomes if o.status == "ok"]
    )


def outcome_dicts(result: BatchResult) -> list[dict[str, Any]]:
    """Every outcome as plain data (for JSON)."""
    return [asdict(o) for o in result.outcomes]
