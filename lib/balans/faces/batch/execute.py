"""The parallel papermill execution: a pool of worker processes, each running the report
notebook for one scenario at a time in a kernel of its own (:mod:`.kernels`).

A report is built in a hidden temporary folder inside ``reports/`` and moved into place
with ``os.replace`` file by file, once it is complete; a failed run's notebook goes to
``failed/``. Ctrl-C: :mod:`.interrupt`."""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from balans.errors import cut
from balans.faces.batch.interrupt import _SIGNALS, _die_with_parent, _on_sigint, forward_sigint
from balans.faces.batch.kernels import (
    IsolatedKernelManager,
    _stop_leftover_kernels,
    kernel_log_tail,
)
from balans.faces.batch.outcomes import Outcome
from balans.presentation.report import KEY_FIGURES_SUFFIX, read_key_figures

CELL_TIMEOUT_S = 600
KERNEL_START_TIMEOUT_S = 120


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


def _run_pool(
    tasks: list[tuple[Task, str]], jobs: int, record: Callable[[Outcome, str | None], None]
) -> bool:
    """Run the tasks in ``jobs`` worker processes; ``record`` each outcome as it comes.
    Returns whether the batch was interrupted (Ctrl-C: :func:`.interrupt.forward_sigint`)."""
    ctx = multiprocessing.get_context("spawn")  # clean workers: no state forked from here
    pool = ProcessPoolExecutor(
        max_workers=min(jobs, len(tasks)), mp_context=ctx, initializer=_init_worker
    )
    futures: dict[Future, tuple[Task, str]] = {pool.submit(run_report, t): (t, k) for t, k in tasks}
    pending = set(futures)

    def take(fut: Future, stopped: bool) -> None:
        task, key = futures[fut]
        try:
            raw = fut.result()
        except Exception as exc:  # a worker died (killed, out of memory, Ctrl-C at its start)
            raw = {
                "name": task.name,
                "scenario_file": task.scenario_file,
                "status": "interrupted" if stopped else "failed",
                "message": f"the worker process failed: {type(exc).__name__}: {exc}",
            }
        known = {f for f in Outcome.__dataclass_fields__}
        record(Outcome(**{k: v for k, v in raw.items() if k in known}), key)

    try:
        with forward_sigint(pool) as stop:
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for fut in done:
                    take(fut, stop["flag"])
                if stop["flag"]:
                    for fut in list(pending):
                        if fut.cancel():
                            pending.discard(fut)
                            task, _ = futures[fut]
                            record(
                                Outcome(
                                    task.name, task.scenario_file, "interrupted", "not started"
                                ),
                                None,
                            )
            return stop["flag"]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
