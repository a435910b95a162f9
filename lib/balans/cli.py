"""The command line: ``balans run FILE [--json]``, ``balans schema``.

Exit 0 on success; 2 on bad input, with the message on stderr and never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from typing import Any

from .errors import BalansError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own message, our exit code
        self.print_usage(sys.stderr)
        print(f"balans: {message}", file=sys.stderr)
        sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="balans", description="Balans: scenario planner for a healthcare board's budget."
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    r = sub.add_parser("run", help="run a scenario file and print its summary (or --json)")
    r.add_argument("file", help="a scenario YAML file, e.g. scenarios/baseline.yaml")
    r.add_argument("--json", action="store_true", help="print the full result as JSON")
    r.add_argument("--case", default=None, help="the case folder (default: data/rjh_hsn)")
    r.add_argument(
        "--lang", choices=("sv", "en"), default="sv", help="language of the summary (default sv)"
    )
    s = sub.add_parser("schema", help="print the JSON Schema of the scenario format")
    s.add_argument("--indent", type=int, default=2)
    return p


def _clean(x: Any) -> Any:
    """JSON has no NaN: write null."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_clean(v) for v in x]
    return x


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "schema":
            from .scenario import json_schema

            print(json.dumps(json_schema(), indent=args.indent, ensure_ascii=False))
            return 0
        if args.command == "run":
            from .api import run_file

            result = run_file(args.file, args.case)
            if args.json:
                print(json.dumps(_clean(result.to_dict()), ensure_ascii=False, indent=1))
            else:
                from .summary import summary_text

                print(summary_text(result, args.lang))
            return 0
    except BalansError as exc:
        print(f"balans: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("balans: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return 2  # pragma: no cover - argparse requires a command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
