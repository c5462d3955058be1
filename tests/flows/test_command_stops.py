"""A stop (Ctrl-C, SIGTERM) of a command at an awkward moment: one `stopped:` line and exit 130 (stop-timing QA)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.cli import DEMO_STOPPED
from flows.entry import STOPPED_BETWEEN_STEPS, STOPPED_STARTING

ROOT = Path(__file__).resolve().parents[2]

# The command as `reviews` starts it, with a stop arriving while it imports its command line.
STOP_WHILE_IMPORTING = """
import importlib.abc, os, signal, sys

class StopOnImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "{module}":
            os.kill(os.getpid(), signal.{signal})
        return None

signal.signal(signal.SIGINT, signal.default_int_handler)  # as a terminal starts it (xdist's workers ignore it)
sys.meta_path.insert(0, StopOnImport())
sys.argv = ["reviews", "sql", "select 1", "--data-dir", "data"]
from flows.entry import main
main()
"""


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize(("module", "line"), [("flows.cli", STOPPED_STARTING),
                                              ("warehouse.queries", STOPPED_BETWEEN_STEPS)])
def test_a_stop_before_the_command_takes_the_signals_over_is_one_line_and_exit_130(
        stop: str, module: str, line: str, tmp_path: Path) -> None:
    # A Ctrl-C while the command line loaded ended in a traceback out of the import machinery; one after it, before
    # the command's own stop handling, ended with no word; a SIGTERM in either killed it silently (stop-timing QA).
    script = STOP_WHILE_IMPORTING.replace("{module}", module).replace("{signal}", stop)
    child = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert (child.returncode, child.stderr.splitlines()) == (130, [line])


def test_a_sigterm_while_the_demo_runs_is_one_line_and_exit_130(tmp_path: Path) -> None:
    # `reviews demo` had no stop of its own: a SIGTERM killed it silently (-15), a Ctrl-C ended it with no line.
    demo = subprocess.Popen([sys.executable, "-m", "flows", "demo", "--data-dir", str(tmp_path / "data"),
                             "--films", "4", "--reviews-per-film", "10", "--quiet"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert demo.stdout is not None
        for line in demo.stdout:
            if line.startswith("demo site serving at"):
                break
        time.sleep(1)
        demo.send_signal(signal.SIGTERM)
        _, err = demo.communicate(timeout=120)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
    assert demo.returncode == 130, err
    assert err.strip().splitlines()[-1] == DEMO_STOPPED and "Traceback" not in err
