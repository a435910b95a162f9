"""The command line: ``balans run [FILE] [--case DIR] [--json]``, ``balans goal-seek FILE
--lever PATH --year YEAR [--target MKR] [--json]``, ``balans batch [DIR or FILES] --out DIR
[--jobs N]``, ``balans app [--case DIR]``, ``balans hub-app`` (a JupyterHub user's server),
``balans import MAPPING --out DIR [--force]``,
``balans schema [mapping]``.

Every command takes ``--case DIR`` (default: the shipped case). A scenario FILE may also be
the name of one of the case's own scenarios (``balans run hyrstopp`` reads
``<case>/scenarios/hyrstopp.yaml``); ``balans run`` without FILE runs the case's baseline.

Exit 0 on success; 2 on bad input, with the message on stderr and never a traceback;
``batch`` exits 1 when a scenario failed (listed on stderr) and 130 when interrupted; 70
is a bug in Balans (a one-line message; ``BALANS_TRACEBACK=1`` shows the traceback).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from balans.errors import BalansError, cut, shown
from balans.faces.serve import DEFAULT_KERNELS, KERNEL_MODES
from balans.model.api import json_safe

INTERNAL_ERROR = 70
"""Exit code of a bug (EX_SOFTWARE): not the user's input; never 0 or 2."""

HUB_MAX_KERNELS = 3
"""``balans hub-app``: kernels per user's server (one per open page: a board member's tab or
three); the pod's memory limit in deploy/z2jh/config.yaml is sized for it."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own message, our exit code
        self.print_usage(sys.stderr)
        print(f"balans: {message}", file=sys.stderr)
        sys.exit(2)


def _serving_flags(p: argparse.ArgumentParser, pool_size: int, max_kernels: int | None) -> None:
    """The flags ``balans app`` and ``balans hub-app`` share."""
    p.add_argument(
        "--pool-size",
        type=int,
        default=pool_size,
        help=f"preheated kernels kept ready (default {pool_size}; 0 = none); for a board "
        "meeting, about the number of people who open the app at once",
    )
    p.add_argument(
        "--max-kernels",
        type=int,
        default=max_kernels,
        metavar="N",
        help="at most N live kernels, one per open page (default: "
        + (str(max_kernels) if max_kernels else "(memory - 2 GB) / 450 MB, at least 2")
        + "); a visitor over the cap gets a page saying the app is full",
    )
    p.add_argument(
        "--idle-timeout",
        type=_finite_float,
        default=30,
        metavar="MIN",
        help="an open page idle this many minutes loses its kernel and shows a link back to "
        "its setting (default 30; 0 = never)",
    )
    p.add_argument(
        "--release-after",
        type=int,
        default=30,
        metavar="S",
        help="a kernel whose page has closed is shut down after S seconds without activity "
        "(default 30)",
    )
    p.add_argument(
        "--kernels",
        choices=KERNEL_MODES,
        default=DEFAULT_KERNELS,
        help="fork: every kernel is forked from one process that has imported the app "
        "(faster to start, less memory each); spawn: each kernel a fresh Python "
        f"(default {DEFAULT_KERNELS})",
    )
    p.add_argument(
        "--case",
        default=None,
        help="the case folder (default: the shipped case, HSN Region Jämtland Härjedalen)",
    )
    p.add_argument(
        "--cutoff",
        default=None,
        metavar="YYYY-MM",
        help="the close to stand on (default: the case's latest)",
    )


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="balans", description="Balans: scenario planner for a healthcare board's budget."
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    r = sub.add_parser("run", help="run a scenario file and print its summary (or --json)")
    r.add_argument(
        "file",
        nargs="?",
        default=None,
        help="a scenario YAML file, or the name of one of the case's scenarios (default: the "
        "case's baseline, no lever moved)",
    )
    r.add_argument("--json", action="store_true", help="print the full result as JSON")
    r.add_argument(
        "--case",
        default=None,
        help="the case folder (default: the shipped case, HSN Region Jämtland Härjedalen)",
    )
    r.add_argument(
        "--cutoff",
        default=None,
        metavar="YYYY-MM",
        help="the close to stand on (default: the case's latest)",
    )
    r.add_argument(
        "--lang", choices=("sv", "en"), default="sv", help="language of the summary (default sv)"
    )
    a = sub.add_parser("app", help="serve the board members' app (standalone Voilà on localhost)")
    a.add_argument("--port", type=int, default=8866, help="port on localhost (default 8866)")
    a.add_argument("--no-browser", action="store_true", help="do not open a browser")
    _serving_flags(a, pool_size=2, max_kernels=None)
    h = sub.add_parser(
        "hub-app",
        help="the app as a JupyterHub user's server (the hub's spawner starts it; see "
        "deploy/jupyterhub/jupyterhub_config.py)",
    )
    # one user's server: a page or two of one board member, not a meeting's worth
    _serving_flags(h, pool_size=0, max_kernels=HUB_MAX_KERNELS)
    g = sub.add_parser(
        "goal-seek",
        help="which value of a lever brings the deviation in a year to a target (default balance)",
    )
    g.add_argument("file", help="a scenario YAML file, e.g. scenarios/balanspaket_2024.yaml")
    g.add_argument(
        "--lever",
        required=True,
        action="append",
        metavar="PATH",
        help="the lever to move, e.g. staffing_reduction.target_pct; give several (repeated or "
        "comma-separated) to move them in proportion",
    )
    g.add_argument("--year", type=int, required=True, help="the year whose deviation to reach")
    g.add_argument(
        "--target",
        type=_finite_float,
        default=0.0,
        help="the deviation to reach, mkr (default 0)",
    )
    g.add_argument("--json", action="store_true", help="print the answer as JSON")
    g.add_argument(
        "--save",
        default=None,
        metavar="FILE",
        help="write the answer as a scenario file (out of reach: the closest the bounds allow)",
    )
    g.add_argument(
        "--case",
        default=None,
        help="the case folder (default: the shipped case, HSN Region Jämtland Härjedalen)",
    )
    g.add_argument(
        "--cutoff",
        default=None,
        metavar="YYYY-MM",
        help="the close to stand on (default: the case's latest)",
    )
    g.add_argument(
        "--lang", choices=("sv", "en"), default="sv", help="language of the answer (default sv)"
    )
    b = sub.add_parser(
        "batch",
        help="a board report (notebook, HTML, key figures) per scenario, with a summary and an index",
    )
    b.add_argument(
        "paths",
        nargs="*",
        default=[],
        metavar="DIR or FILE",
        help="scenario folders (every *.yaml in them) and files (default: the case's scenarios/)",
    )
    b.add_argument("--out", required=True, metavar="DIR", help="the output folder")
    b.add_argument(
        "--jobs", type=_positive_int, default=1, metavar="N", help="reports at a time (default 1)"
    )
    b.add_argument("--force", action="store_true", help="run unchanged scenarios again too")
    b.add_argument(
        "--case",
        default=None,
        help="the case folder (default: the shipped case, HSN Region Jämtland Härjedalen)",
    )
    b.add_argument(
        "--cutoff",
        default=None,
        metavar="YYYY-MM",
        help="the close to stand on (default: the case's latest)",
    )
    b.add_argument(
        "--lang", choices=("sv", "en"), default="sv", help="language of the reports (default sv)"
    )
    b.add_argument(
        "--notebook",
        default=None,
        metavar="FILE",
        help="the report notebook (default: the shipped report.ipynb)",
    )
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    s = sub.add_parser("schema", help="print the JSON Schema of the scenario format")
    s.add_argument(
        "what",
        nargs="?",
        choices=("scenario", "mapping"),
        default="scenario",
        help="scenario (default) or mapping (the ledger import's mapping file)",
    )
    s.add_argument("--indent", type=int, default=2)
    c = sub.add_parser(
        "close",
        help="close a month: keep the vintage (the forecast made at this close) and show what "
        "changed since the last close",
    )
    c.add_argument(
        "mapping",
        nargs="?",
        default=None,
        help="the mapping file: import the ledger again first (the case keeps its vintages)",
    )
    c.add_argument("--case", required=True, help="the case folder")
    c.add_argument(
        "--cutoff", default=None, metavar="YYYY-MM", help="the close (default: the latest)"
    )
    c.add_argument("--lang", choices=("sv", "en"), default="sv", help="language (default sv)")
    v = sub.add_parser(
        "vintages", help="list the forecast made at each close, with budget, outcome and accuracy"
    )
    v.add_argument("--case", default=None, help="the case folder (default: the shipped case)")
    v.add_argument("--json", action="store_true", help="print the vintages as JSON")
    v.add_argument("--lang", choices=("sv", "en"), default="sv", help="language (default sv)")
    i = sub.add_parser("import", help="build a case folder from ledger exports and a mapping")
    i.add_argument("mapping", help="the mapping YAML file; the exports lie beside it")
    i.add_argument("--out", required=True, metavar="DIR", help="the case folder to write")
    i.add_argument("--force", action="store_true", help="replace an existing non-empty folder")
    i.add_argument(
        "--parameters",
        default=None,
        metavar="FILE",
        help="parameters.csv to copy (default: the mapping's, else the template's)",
    )
    return p


def _finite_float(text: str) -> float:
    """A number as argparse's ``float`` reads it, but never NaN or infinity."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(
            f"{shown(text)} is not a finite number; allowed: a number, e.g. 0 or -25"
        )
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is below 1; allowed 1 or more")
    return value


def _reimport(mapping: str, case: str) -> None:
    """Import the ledger again into ``case`` (the new month's actuals), keeping the case's
    vintages: the forecasts made at earlier closes stay as they were made."""
    from balans.analysis.closes import VINTAGES_FILE
    from balans.atomic import write_text_atomic
    from balans.inputs.ledger_import import import_ledger

    kept = Path(case) / VINTAGES_FILE
    text = kept.read_text(encoding="utf-8") if kept.is_file() else None
    report = import_ledger(mapping, case, force=True)
    if text is not None:
        write_text_atomic(kept, text)
    print(report.text(), file=sys.stderr)


def _case_dir(case: str | None, cutoff: str | None = None) -> Path | None:
    """The case folder, checked: loading it now (at the close) gives a bad case's message
    before anything starts (the app would otherwise show it in every viewer's page)."""
    from balans.inputs.case import load_case

    load_case(case, cutoff=cutoff)
    return None if case is None else Path(case).resolve()


def _case_scenarios(case: str | None, cutoff: str | None = None) -> Path:
    from balans.inputs.case import load_case

    folder = load_case(case, cutoff=cutoff).scenarios_dir
    if not folder.is_dir():
        raise BalansError(
            f"{folder}: the case has no scenarios folder; name scenario files or folders to run"
        )
    return folder


def _scenario_path(file: str, case: str | None, cutoff: str | None = None) -> Path:
    """FILE as given, or else the case's own scenario of that name."""
    from balans.inputs.case import load_case

    path = Path(file)
    if path.exists() or path.suffix or "/" in file:
        return path
    folder = load_case(case, cutoff=cutoff).scenarios_dir
    named = folder / f"{file}.yaml"
    if named.is_file():
        return named
    names = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
    raise BalansError(
        f"{file}: no such scenario file"
        + (
            f", nor a scenario of the case; the case's scenarios: {', '.join(names)}"
            if names
            else ""
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "schema":
            from balans.inputs.scenario import json_schema

            if args.what == "mapping":
                from balans.inputs.ledger_import import mapping_schema as json_schema

            print(json.dumps(json_schema(), indent=args.indent, ensure_ascii=False))
            return 0
        if args.command == "import":
            from balans.inputs.ledger_import import import_ledger

            report = import_ledger(
                args.mapping, args.out, force=args.force, parameters=args.parameters
            )
            print(report.text())
            return 0
        if args.command in ("app", "hub-app"):
            from balans.faces.serve import serve

            hub = args.command == "hub-app"
            case_dir = _case_dir(args.case, args.cutoff)
            return serve(
                port=8866 if hub else args.port,  # hub-app: the spawner's address
                open_browser=not hub and not args.no_browser,
                hub=hub,
                pool_size=args.pool_size,
                case_dir=case_dir,
                cutoff=args.cutoff,
                max_kernels=args.max_kernels,
                idle_timeout_min=args.idle_timeout,
                release_after_s=args.release_after,
                kernels=args.kernels,
            )
        if args.command == "close":
            from balans.analysis.closes import close_text, record_close

            if args.mapping:
                _reimport(args.mapping, args.case)
            made = record_close(args.case, cutoff=args.cutoff)
            print(close_text(args.case, made[0].cutoff, args.lang))
            return 0
        if args.command == "vintages":
            from balans.analysis.closes import vintages_frame, vintages_text

            frame = vintages_frame(args.case)
            if args.json:
                records = frame.drop(columns=["accuracy_against"]).to_dict(orient="records")
                print(json.dumps(json_safe(records), ensure_ascii=False, indent=1))
            else:
                print(vintages_text(frame, args.lang))
            return 0
        if args.command == "run":
            from balans.inputs.case import load_case
            from balans.inputs.scenario import baseline_scenario, load_scenario
            from balans.model.api import run

            case = load_case(args.case, cutoff=args.cutoff)
            if args.file is None:
                result = run(baseline_scenario(), case)
            else:
                path = _scenario_path(args.file, args.case, args.cutoff)
                result = run(load_scenario(path), case, source=str(path))
            if args.json:
                print(json.dumps(json_safe(result.to_dict()), ensure_ascii=False, indent=1))
            else:
                from balans.presentation.summary import summary_text

                print(summary_text(result, args.lang))
            return 0
        if args.command == "batch":
            from balans.faces.batch import run_batch

            paths = args.paths or [str(_case_scenarios(args.case, args.cutoff))]
            batch = run_batch(
                paths,
                args.out,
                jobs=args.jobs,
                lang=args.lang,
                case_dir=args.case,
                notebook=args.notebook,
                force=args.force,
                progress=not args.quiet,
                cutoff=args.cutoff,
            )
            made = sum(o.made for o in batch.outcomes)
            cached = sum(o.status == "cached" for o in batch.outcomes)
            print(
                f"balans batch: {made} of {len(batch.outcomes)} reports in {args.out} "
                f"({cached} unchanged, not run again) in {batch.wall_s:.1f} s"
                + ("" if batch.interrupted else f"; open {args.out}/index.html"),
                file=sys.stderr,
            )
            for o in batch.failures:
                print(f"balans batch: FAILED {o.name} ({o.scenario_file}):", file=sys.stderr)
                print("  " + cut(o.message).replace("\n", "\n  "), file=sys.stderr)
                if o.stale_files:
                    print(
                        f"  its last good report is kept, marked stale: "
                        f"{args.out}/{o.stale_files['html']}",
                        file=sys.stderr,
                    )
            if batch.interrupted:
                print(
                    "balans batch: interrupted; the finished reports are kept and will not be "
                    "run again",
                    file=sys.stderr,
                )
            return batch.exit_code
        if args.command == "goal-seek":
            from balans.analysis import goal_seek
            from balans.inputs.scenario import load_scenario, save_scenario
            from balans.presentation.narrative import goal_seek_text

            levers = [p.strip() for item in args.lever for p in item.split(",") if p.strip()]
            from balans.inputs.case import load_case

            answer = goal_seek(
                load_scenario(_scenario_path(args.file, args.case, args.cutoff)),
                levers,
                args.year,
                args.target,
                load_case(args.case, cutoff=args.cutoff),
            )
            if args.save:
                save_scenario(answer.scenario, args.save)
            if args.json:
                print(json.dumps(json_safe(answer.to_dict()), ensure_ascii=False, indent=1))
            else:
                print(goal_seek_text(answer, args.lang))
            return 0
    except BalansError as exc:
        print(f"balans: {cut(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("balans: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a path given on the command line that cannot be read or written
        from balans.inputs.scenario import path_problem

        name = exc.filename if isinstance(exc.filename, str) else ""
        if name:
            print(f"balans: {cut(name, 300)}: {path_problem(Path(name), exc)}", file=sys.stderr)
        else:  # stdout itself (a full disk)
            print(f"balans: {cut(exc.strerror or str(exc), 300)}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: a short message, the traceback only when asked for
        if os.environ.get("BALANS_TRACEBACK"):
            raise
        print(
            f"balans: internal error, a bug to report: {type(exc).__name__}: "
            f"{cut(str(exc), 300)} (BALANS_TRACEBACK=1 shows where)",
            file=sys.stderr,
        )
        return INTERNAL_ERROR
    return 2  # pragma: no cover - argparse requires a command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
