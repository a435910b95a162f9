"""Engine speed: one scenario, 10 000 at once, and the speed-up over a Python loop.

Prints one JSON line:
  single_ms        median time of one scenario evaluation (compile + evaluate + yearly sums)
  batch_10000_s    median time of 10 000 scenarios evaluated together (arrays, all levers moved)
  loop_per_scenario_ms  time per scenario when the same scenarios are evaluated one by one
  speedup          loop time for 10 000 / batch time (the loop is timed on loop_n scenarios)
Goals on the 2-core machine: single_ms <= 2, batch_10000_s <= 1.

    python benchmarks/bench_engine.py [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import time

import numpy as np

from balans import get_engine, parse_scenario

FULL = {
    "name": "bench",
    "levers": {
        "staffing_reduction": {"target_pct": 6, "start": "2024-01", "ramp_months": 12},
        "agency": {
            "change_pct": -50,
            "start": "2024-02",
            "replacement": {"own_staff_pct": 40, "purchased_care_pct": 20, "not_replaced_pct": 40},
        },
        "drug_cost_growth_pct": 10,
        "rest_rule": {"start": "2023-10", "extra_need_pct": 3, "weekend_mitigation_pct": 30},
        "realisation_pct": 37,
        "pay_revision_pct": 4.1,
        "measures": [{"name": "Inköp", "mkr_per_year": 100, "start": "2024-01"}],
    },
}


def random_levers(engine, n: int, seed: int = 1):
    """n scenarios with every lever moved, drawn at once (as Monte Carlo would)."""
    rng = np.random.default_rng(seed)
    L = engine.default_levers(n)
    u = rng.uniform
    measures = np.zeros((n, engine.T, engine.A))
    measures[:, engine.first_forecast :, engine.account_ids.index("other_costs")] = (
        u(0, 100, n)[:, None] * 1000 / 12
    )
    return dataclasses.replace(
        L,
        staff_target_pct=u(0, 10, n),
        staff_start=rng.integers(engine.first_forecast, engine.T, n).astype(float),
        agency_change_pct=u(-100, 0, (n, engine.C)),
        drug_growth_pct=u(5, 15, n),
        rest_on=np.ones(n, dtype=bool),
        rest_need_pct=u(1, 8, n),
        realisation_pct=u(20, 100, n),
        fill_rate_pct=u(60, 100, n),
        pay_pct=u(2, 6, (n, engine.Y)),
        measures_tkr=measures,
    )


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
    engine = get_engine()
    scenario = parse_scenario(FULL)

    def single():
        r = engine.evaluate(engine.compile([scenario]))
        return r.net_by_year_mkr, r.bridge_mkr

    single()
    single_s = timed(single, 50 if args.quick else 300)

    n = 10_000
    L = random_levers(engine, n)

    def batch():
        r = engine.evaluate(L)
        return r.net_by_year_mkr, r.bridge_mkr, r.deviation_by_year_mkr

    batch()
    batch_s = timed(batch, 3 if args.quick else 7)

    loop_n = 300 if args.quick else 2000
    singles = [L.take(i) for i in range(loop_n)]

    def loop():
        for one in singles:
            r = engine.evaluate(one)
            r.net_by_year_mkr, r.bridge_mkr  # noqa: B018

    loop_s = timed(loop, 1)[0]
    per = loop_s / loop_n
    # the same 10 000 scenarios one by one give the same numbers as the batch
    check = engine.evaluate(L.take(7)).net_by_year_mkr[0]
    assert np.allclose(check, engine.evaluate(L).net_by_year_mkr[7], atol=1e-9, rtol=0)

    print(
        json.dumps(
            {
                "single_ms": round(statistics.median(single_s) * 1000, 3),
                "batch_10000_s": round(statistics.median(batch_s), 3),
                "loop_per_scenario_ms": round(per * 1000, 3),
                "loop_n": loop_n,
                "speedup": round(per * n / statistics.median(batch_s), 1),
                "goals": {"single_ms": 2, "batch_10000_s": 1},
                "machine": f"{platform.machine()} {platform.python_version()} numpy {np.__version__}",
            }
        )
    )


if __name__ == "__main__":
    main()
