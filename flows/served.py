"""What a flow run that `reviews serve` started sets up first (SERVED_ENV set; nothing elsewhere).

- Prefect's console records in one line per failure (flows/quiet_errors.py).
- SIGINT ignored: a terminal's Ctrl-C reaches serve's whole process group, runs included. A run it stopped
  directly recorded itself Crashed before the runner, which takes the Ctrl-C as its SIGTERM (flows/serve_runner.py),
  came to stop it and record it Cancelled. The runner's SIGTERM still stops it, as does systemd's.
- A stop when serve is gone: a run whose serve was killed with -9 went on crawling for minutes, reparented, while
  the next serve marked it Crashed (serve QA). SERVED_ENV holds serve's process id and start time: a run that is
  serve's child checks every second that serve is there, and once it is gone, stops itself as a SIGTERM would stop
  it (its crawl closes cleanly and keeps its job) and ends its process when its code has ended; a flow run whose
  serve died while it started stops at once. A command started from a served run's environment is left alone.
- A served run stopped by a signal ends Cancelled (`stopped_state`), never Crashed first, and so do its tasks the stop
  ended (`cancelled_when_stopped`): the pipeline takes SIGTERM as Ctrl-C (flows/crawl.py), so the runner's stop reached
  Prefect's engine as a KeyboardInterrupt, a crash, about 2 s before the runner recorded the run Cancelled, and a
  Prefect automation on Crashed would have fired; a stopped load's task was Failed, a stopped report's Crashed.
"""

from __future__ import annotations

import functools
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from flows.errors import RunStopped
from flows.quiet_errors import SERVED_ENV, quiet_served_run

P = ParamSpec("P")
R = TypeVar("R")
_watching = threading.Event()
_body_done = threading.Event()  # the flow's own code has ended (flows/pipeline.py, flows/report/flow.py)
GRACE_SECONDS = 120.0  # for a stopped run to end: a crawl's page in flight may take DOWNLOAD_TIMEOUT (30 s)


def serve_identity() -> str:
    """What serve puts in SERVED_ENV: its process id and start time (a pid alone may be reused)."""
    return f"{os.getpid()}:{_start_time(os.getpid())}"


def _start_time(pid: int) -> str | None:
    """The start time of a live process (None once it ended, a zombie not yet reaped included)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def _alive(serve: str) -> bool:
    pid, _, started = serve.partition(":")
    now = _start_time(int(pid))
    return now is not None and (not started or now == started)


def prepare_served_run() -> None:
    if not is_served():
        return
    quiet_served_run()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve = os.environ[SERVED_ENV]
    pid = serve.partition(":")[0]
    if _watching.is_set() or not pid.isdigit():
        return
    _watching.set()
    if os.getppid() == int(pid) and _alive(serve):
        threading.Thread(target=_stop_when_orphaned, args=(serve,), daemon=True, name="serve-watch").start()
    elif os.environ.get("PREFECT__FLOW_RUN_ID") and not _alive(serve):
        # A flow run Prefect's runner started, orphaned while it started (Prefect's import takes seconds); its
        # parent is then init or the nearest subreaper, whichever that is.
        threading.Thread(target=_stop, daemon=True, name="serve-watch").start()
    # Else not a served run (a command started from a served run's environment): nothing to watch.


@contextmanager
def served_body() -> Iterator[None]:
    """Around a served flow's own code: `_stop` waits for it to end before it ends the process."""
    try:
        yield
    finally:
        _body_done.set()


STOPPED = "stopped: its crawls closed cleanly and keep their jobs, which the next run resumes"


def is_served() -> bool:
    """Whether this process is a flow run `reviews serve` started."""
    return bool(os.environ.get(SERVED_ENV))


def stopped_state(exc: BaseException, message: str = STOPPED) -> Any:
    """The Cancelled state a served flow or task returns when a signal stopped it (`exc`: a KeyboardInterrupt, whose
    state says `message`, a RunStopped saying what the stop kept, or the CancelledRun of a task it stopped); None
    elsewhere, where the stop goes on up as before. The message is logged too: the runner's own Cancelled state
    comes after and replaces it in Prefect's UI ("Runner is shutting down.")."""
    from prefect.exceptions import CancelledRun

    if not is_served() or not isinstance(exc, KeyboardInterrupt | RunStopped | CancelledRun):
        return None
    from prefect.logging import get_run_logger
    from prefect.states import Cancelled

    message = message if isinstance(exc, KeyboardInterrupt) else str(exc)
    if not isinstance(exc, CancelledRun):  # a task's stop: that task has logged it
        get_run_logger().info("%s", message)
    return Cancelled(message=message)


def cancelled_when_stopped(message: str = STOPPED) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """For a task body that a served run's stop ends Cancelled (saying `message`, or what a RunStopped says), not
    Crashed (a stopped report's task) or Failed (a stopped load's): the stop is for the flow to take up
    (`unless_stopped` where it called the task)."""

    def wrap(body: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(body)
        def stoppable(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return body(*args, **kwargs)
            except (KeyboardInterrupt, RunStopped) as exc:
                if (state := stopped_state(exc, message)) is None:
                    raise
                return state

        return stoppable

    return wrap


def unless_stopped(value: R) -> R:
    """What a task called directly gave: its value, or, for the Cancelled state `cancelled_when_stopped` made it
    return (Prefect hands a returned state over as it is), that state's CancelledRun, for the flow to take up."""
    from prefect.states import State

    if isinstance(value, State) and value.is_cancelled():
        from prefect.exceptions import CancelledRun

        raise CancelledRun(value.message)
    return value


def _stop_when_orphaned(serve: str) -> None:
    while _alive(serve):
        threading.Event().wait(1.0)
    _stop()


def _stop() -> None:
    """Stop the run as a SIGTERM does, then, once the flow's code has ended (its crawls closed, their job state
    saved, a load rolled back or committed), end the process: with no server to report to, Prefect's engine retried
    for minutes, and then overwrote the Crashed message the next serve had given the run (QA)."""
    os.kill(os.getpid(), signal.SIGTERM)
    _body_done.wait(GRACE_SECONDS)
    time.sleep(2.0)  # what the flow does after its code (its last log lines)
    os._exit(128 + signal.SIGTERM)
