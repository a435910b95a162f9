"""Board members signing in through JupyterHub at once (deploy/jupyterhub, the test login).

Starts the hub as tests/test_jupyterhub.py does, then N users, each in a browser context of
their own, sign in together; prints one JSON line:
  users                      how many signed in at once
  headline_s                 "Sign in" to the app's headline drawn (median, max), spawn included
  servers_rss_mb             memory of all the users' servers (resident set: their
                             supervisor, Voilà and kernel), and per user
  cpu_s_per_user             CPU-seconds each user's server spent to the first page

    python benchmarks/bench_hub.py [--users 6] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_jupyterhub import ARGS, CHROMIUM, Hub, missing


async def sign_in_all(hub: Hub, users: list[str]) -> list[float]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)

        async def one(user: str) -> float:
            context = await browser.new_context()
            page = await context.new_page()
            await page.goto(hub.url + "/hub/login")
            await page.fill("#username_input", user)
            await page.fill("#password_input", hub.password)
            t0 = time.monotonic()
            await page.click("#login_submit")
            await page.wait_for_selector(".balans-headline", timeout=600_000)
            return time.monotonic() - t0

        times = await asyncio.gather(*(one(u) for u in users))
        await browser.close()
    return list(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=6)
    ap.add_argument("--quick", action="store_true", help="2 users")
    args = ap.parse_args()
    n = 2 if args.quick else args.users
    if missing():
        sys.exit("bench_hub needs: " + "; ".join(missing()))
    users = [f"ledamot{i + 1}" for i in range(n)]
    with tempfile.TemporaryDirectory(prefix="balans-bench-hub-") as tmp:
        hub = Hub(Path(tmp), tuple(users))
        try:
            hub.wait_up()
            times = asyncio.run(sign_in_all(hub, users))
            servers = hub.user_servers()
            trees = [[s, *s.children(recursive=True)] for s in servers]
            rss = [sum(p.memory_info().rss for p in t) / 2**20 for t in trees]
            cpu = [sum(sum(p.cpu_times()[:2]) for p in t) for t in trees]
        finally:
            hub.proc.send_signal(signal.SIGTERM)
            hub.proc.wait(timeout=60)
    print(
        json.dumps(
            {
                "users": n,
                "headline_s": [round(statistics.median(times), 1), round(max(times), 1)],
                "servers_rss_mb": round(sum(rss)),
                "rss_mb_per_user": round(statistics.median(rss)),
                "cpu_s_per_user": round(statistics.median(cpu), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
