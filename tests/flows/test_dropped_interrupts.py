"""A stop whose KeyboardInterrupt Python dropped still stops the run. Python ignores an exception raised while a
finalizer runs ("Exception ignored in: <function _SelectorTransport.__del__ …> KeyboardInterrupt"), so a Ctrl-C
landing there let the load commit its batch and the run end with exit 0 (seen once in the suite)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import flows.pipeline
from bench.warehouse import synthesize
from crawlers.landing import new_run_id
from flows.crawl import signalled, sigterm_as_interrupt
from flows.errors import RunStopped
from flows.pipeline import pipeline
from warehouse.db import connect, warehouse_path


@pytest.fixture(autouse=True)
def no_stop_left_behind():
    yield
    signalled.clear()  # the flag is the process's: a test's stop must not stop the next test's run


@pytest.fixture
def pending(tmp_path: Path) -> str:
    run_id = new_run_id()
    folder = tmp_path / "raw" / "bench"
    folder.mkdir(parents=True)
    synthesize(folder / f"{run_id}.jsonl", reviews=300)
    return run_id


def counts(root: Path) -> tuple[int, int]:
    with connect(warehouse_path(root), read_only=True) as conn:
        return (conn.execute("select count(*) from reviews").fetchone()[0],
                conn.execute("select count(*) from crawl_runs").fetchone()[0])


def test_a_stop_dropped_during_a_load_rolls_the_batch_back(tmp_path: Path, pending: str, monkeypatch) -> None:
    normalize = flows.pipeline.normalize

    def signal_dropped_while_normalizing(conn, batch):
        normalized = normalize(conn, batch)
        signalled.set()  # the handler ran; its KeyboardInterrupt was lost in a finalizer
        return normalized

    monkeypatch.setattr(flows.pipeline, "normalize", signal_dropped_while_normalizing)
    with pytest.raises(RunStopped, match=f"stopped while loading run {pending} of bench: that load was rolled back"):
        pipeline([], str(tmp_path))
    assert counts(tmp_path) == (0, 0)


def test_a_stop_dropped_after_a_load_keeps_it_and_skips_the_marts(tmp_path: Path, pending: str, monkeypatch) -> None:
    load = flows.pipeline.load

    def signal_dropped_after_the_commit(*args, **kwargs):
        loaded = load(*args, **kwargs)
        signalled.set()
        return loaded

    monkeypatch.setattr(flows.pipeline, "load", signal_dropped_after_the_commit)
    with pytest.raises(RunStopped, match="stopped while rebuilding the marts: this run's loads are kept"):
        pipeline([], str(tmp_path))
    assert counts(tmp_path) == (300, 1)


def test_a_later_command_in_the_same_process_is_not_stopped_by_an_earlier_stop(tmp_path: Path, pending: str) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    signalled.set()
    result = CliRunner().invoke(app, ["run", "--data-dir", str(tmp_path), "--quiet"])
    assert result.exit_code == 0, result.output
    assert counts(tmp_path) == (300, 1)


def test_ctrl_c_and_sigterm_both_mark_the_run_signalled() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signalled.clear()
        with pytest.raises(KeyboardInterrupt), sigterm_as_interrupt():
            os.kill(os.getpid(), signum)
            signal.sigtimedwait([], 0.1)  # the handler runs before this returns
        assert signalled.is_set()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


@pytest.mark.parametrize("served", [True, False])
def test_after_a_stop_a_served_run_ignores_sigterm_and_a_python_caller_gets_its_handler_back(
        served: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # Stop-timing QA: once a served run's flow had returned its Cancelled state, a second SIGTERM met Prefect's
    # handler again and the run was recorded Crashed after Cancelled.
    from flows.quiet_errors import SERVED_ENV

    if served:
        monkeypatch.setenv(SERVED_ENV, "1")
    signalled.clear()
    previous, previous_int = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(KeyboardInterrupt), sigterm_as_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)
            signal.sigtimedwait([], 0.1)
        assert signal.getsignal(signal.SIGTERM) == (signal.SIG_IGN if served else previous)
    finally:
        # Both: a SIGINT left ignored here was inherited by every later test's commands in this worker, whose
        # Ctrl-C then did nothing (a `reviews sql` stop test timed out in CI).
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
        signalled.clear()


def test_a_sigint_the_process_ignores_stays_ignored() -> None:
    # A script's background job (`reviews run &`) is started with SIGINT ignored.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with sigterm_as_interrupt():
            assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_stop_dropped_before_the_flow_began_still_stops_its_loads(tmp_path: Path, pending: str) -> None:
    # `reviews run` takes the signals before it starts Prefect's server, where a stop can be dropped too; the flow
    # then cleared the flag and loaded everything (review).
    with sigterm_as_interrupt():
        signalled.set()
        with pytest.raises(RunStopped, match=f"stopped while loading run {pending} of bench"):
            pipeline([], str(tmp_path))
    assert counts(tmp_path) == (0, 0)


def test_a_stop_landing_in_a_finalizer_is_raised_once_the_finalizer_has_run(capfd) -> None:
    # Python printed "Exception ignored in: <function SetBase.__del__>" and a traceback under the command's one line,
    # and dropped the KeyboardInterrupt (seen in the suite, a Ctrl-C sent to the whole group while loading).
    class Finalized:
        def __del__(self) -> None:
            os.kill(os.getpid(), signal.SIGTERM)
            signal.sigtimedwait([], 0.05)  # the handler runs here, inside the finalizer

    with pytest.raises(KeyboardInterrupt), sigterm_as_interrupt():
        Finalized()  # dropped at once: its __del__ runs
        for _ in range(100):
            signal.sigtimedwait([], 0.02)
    assert "Exception ignored" not in capfd.readouterr().err
    assert signalled.is_set()


# A process whose SIGTERM lands inside a finalizer: `Finalized()` sends it from its `__del__`.
_FINALIZED = """
import os, signal, time
from flows.crawl import signalled, sigterm_as_interrupt

class Finalized:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGTERM)
        signal.sigtimedwait([], 0.01)
"""


def _run_with_finalizer(body: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _FINALIZED + body], capture_output=True, text=True, timeout=60)


def test_a_stop_from_a_finalizer_at_the_end_of_the_block_is_noted_and_kills_nothing() -> None:
    # Verification QA: re-sent as a real SIGTERM after the block had ended, it met the default handler, and the
    # process died (exit 143) with no `stopped` line. Raised after the block instead, it called a finished run
    # stopped (review): the stop is noted (`signalled`), the block's work stands.
    done = _run_with_finalizer("""
try:
    with sigterm_as_interrupt():
        Finalized()
except KeyboardInterrupt:
    print("stopped")  # the block had ended: its work is done, and it is no stopped run
time.sleep(0.3)  # the re-sent stop, had it gone out, would have come by now
print("alive", signalled.is_set())
""")
    assert (done.returncode, done.stdout.split()) == (0, ["alive", "True"]), done.stderr


def test_a_stop_from_a_finalizer_wakes_a_blocking_wait_in_the_block() -> None:
    # Review: sent again through _thread.interrupt_main, it reached a 3 s sleep only when the sleep ended.
    done = _run_with_finalizer("""
started = time.monotonic()
try:
    with sigterm_as_interrupt():
        Finalized()
        time.sleep(5)
except KeyboardInterrupt:
    print("stopped after", round(time.monotonic() - started))
""")
    assert done.stdout.split() == ["stopped", "after", "0"], (done.stdout, done.stderr)


def test_what_a_serve_signal_handler_prints_waits_on_no_lock_threading_holds() -> None:
    # Serve's handlers started a thread to print `still stopping`: Thread.start takes threading's own locks, and a
    # second signal whose handler ran while the first held one (a SIGINT and a SIGTERM at once) waited for ever.
    from flows.serve_runner import Announcer

    heard: list[str] = []
    announcer = Announcer(heard.append)
    go, said = threading.Event(), threading.Event()
    threading.Thread(target=lambda: go.wait() and (announcer.say("still stopping"), said.set()), daemon=True).start()
    with threading._active_limbo_lock:  # held, as by a Thread.start the first signal interrupted
        go.set()
        assert said.wait(timeout=10), "the handler waited on a lock threading held"
    deadline = time.monotonic() + 30
    while not heard and time.monotonic() < deadline:
        time.sleep(0.01)
    assert heard == ["still stopping"]
    announcer.say("stopped")
    announcer.close()  # after the lines said before it
    deadline = time.monotonic() + 30
    while len(heard) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert heard == ["still stopping", "stopped"]
