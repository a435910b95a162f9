"""``balans app``'s supervisor (``balans.faces.serve.supervise``) between the operator's signals
and Voilà: a stop asked twice by one event is one stop; asked again later, it is "at once".

Voilà is played by a small Python process that takes ``STOP_S`` s to stop after SIGTERM (as
Voilà shutting down its kernels does) and says so on its way out.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

SLOW_VOILA = textwrap.dedent(
    """
    import signal, sys, time
    def stop(*_):
        time.sleep(float(sys.argv[1]))
        print("voila: stopped cleanly", flush=True)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    print("voila: serving", flush=True)
    while True:
        time.sleep(0.1)
    """
)

SUPERVISOR = textwrap.dedent(
    """
    import subprocess, sys
    from balans.faces.serve import supervise
    voila = subprocess.Popen([sys.executable, sys.argv[1], sys.argv[2]])
    print("supervisor: exit", supervise(voila, grace_s=20), flush=True)
    """
)


def start(tmp_path: Path, stop_s: float) -> subprocess.Popen:
    (tmp_path / "voila.py").write_text(SLOW_VOILA)
    (tmp_path / "supervisor.py").write_text(SUPERVISOR)
    proc = subprocess.Popen(
        [sys.executable, str(tmp_path / "supervisor.py"), str(tmp_path / "voila.py"), str(stop_s)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout.readline().strip() == "voila: serving"
    return proc


def test_a_stop_of_the_whole_group_reaching_twice_is_one_stop(tmp_path):
    proc = start(tmp_path, stop_s=1.5)
    proc.send_signal(signal.SIGTERM)  # from the process group
    time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)  # and passed on by the parent (make) a moment later
    out, _ = proc.communicate(timeout=30)
    assert "voila: stopped cleanly" in out
    assert "killed" not in out
    assert "supervisor: exit 0" in out


def test_a_second_stop_asked_later_stops_at_once(tmp_path):
    proc = start(tmp_path, stop_s=15)
    proc.send_signal(signal.SIGINT)  # Ctrl-C ...
    time.sleep(1.5)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)  # ... and Ctrl-C again: the operator will not wait
    out, _ = proc.communicate(timeout=30)
    assert time.monotonic() - t0 < 5
    assert "Voilà did not stop in time; killed" in out
    assert "voila: stopped cleanly" not in out
    assert "supervisor: exit 0" in out
