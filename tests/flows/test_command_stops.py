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
from flows.entry import STOPPED_STARTING

ROOT = Path(__file__).resolve().parents[2]

# The command as `reviews` starts it, with a stop arriving while it imports its command line.
STOP_WHILE_IMPORTING = """
import importlib.abc, os, signal, sys

class StopOnImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "flows.cli":
            os.kill(os.getpid(), signal.{signal})
        return None

signal.signal(signal.SIGINT, signal.default_int_handler)  # as a terminal starts it (xdist's workers ignore it)
sys.meta_path.insert(0, StopOnImport())
sys.argv = ["reviews", "sql", "select 1"]
from flows.entry import main
main()
"""


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_a_stop_while_the_command_starts_is_one_line_and_exit_130(stop: str, tmp_path: Path) -> None:
    # A Ctrl-C in its first moments ended in a traceback out of the import machinery; a SIGTERM killed it silently.
    child = subprocess.run([sys.executable, "-c", STOP_WHILE_IMPORTING.format(signal=stop)], cwd=tmp_path,
                           capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert (child.returncode, child.stderr.splitlines()) == (130, [STOPPED_STARTING])


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
