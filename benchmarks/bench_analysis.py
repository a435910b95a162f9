"""Analysis speed: Monte Carlo draws, goal seek and the tornado on the shipped case.

Prints one JSON line:
  mc_draws_per_s   Monte Carlo draws a second (10 000 draws of the two-year horizon, the
                   yearly summary and the monthly fan included)
  mc_10000_s       median time of those 10 000 draws
  goal_seek_ms     median time of one goal seek (staffing reduction to reach a 2024 target)
  tornado_ms       median time of one tornado (every uncertain input at both range ends)
Goal on the 2-core machine: mc_10000_s <= 1.

    python benchmarks/bench_analysis.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import numpy as np

from balans import load_scenario
from balans.analysis import goal_seek, monte_carlo, tornado
from balans.resources import scenarios_dir

SCENARIO = scenarios_dir() / "balanspaket_2024.yaml"


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats (for the test command)")
    args = ap.parse_args()
    sc = load_scenario(SCENARIO)
    n = 10_000

    def mc():
        r = monte_carlo(sc, n_draws=n, seed=1)
        r.summary_frame()
        r.fan_frame("cumulative_deviation_mkr")
        return r

    def seek():
        g = goal_seek(sc, "measures.mkr_per_year", 2024, -300.0)
        assert g.reachable
        return g

    mc(), seek(), tornado(sc)  # warm up (case load, engine, imports)
    mc_s = statistics.median(timed(mc, 3 if args.quick else 7))
    seek_s = statistics.median(timed(seek, 10 if args.quick else 50))
    tornado_s = statistics.median(timed(lambda: tornado(sc), 10 if args.quick else 50))
    print(
        json.dumps(
            {
                "mc_draws_per_s": round(n / mc_s),
                "mc_10000_s": round(mc_s, 3),
                "goal_seek_ms": round(seek_s * 1000, 2),
                "tornado_ms": round(tornado_s * 1000, 2),
                "goals": {"mc_10000_s": 1},
                "machine": f"{platform.machine()} {platform.python_version()} numpy {np.__version__}",
            }
        )
    )


if __name__ == "__main__":
    main()
