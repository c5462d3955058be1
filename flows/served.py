"""What a flow run that `reviews serve` started sets up first (SERVED_ENV set; nothing elsewhere).

- Prefect's console records in one line per failure (flows/quiet_errors.py).
- SIGINT ignored: a terminal's Ctrl-C reaches serve's whole process group, runs included. A run it stopped
  directly recorded itself Crashed before the runner, which takes the Ctrl-C as its SIGTERM (flows/serve_runner.py),
  came to stop it and record it Cancelled. The runner's SIGTERM still stops it, as does systemd's.
- A stop when serve is gone: a run whose serve was killed with -9 went on crawling for minutes, reparented, while
  the next serve marked it Crashed (serve QA). SERVED_ENV holds serve's process id: a run that is serve's child
  checks its parent every second, and once it changed, stops itself as a SIGTERM would stop it (its crawl closes
  cleanly and keeps its job); one whose serve died while it started stops at once.
"""

from __future__ import annotations

import os
import signal
import threading
import time

from flows.quiet_errors import SERVED_ENV, quiet_served_run

_watching = threading.Event()
GRACE_SECONDS = 120.0  # for a crawl to close: a page in flight may take DOWNLOAD_TIMEOUT (30 s)


def prepare_served_run() -> None:
    if not os.environ.get(SERVED_ENV):
        return
    quiet_served_run()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve = os.environ[SERVED_ENV]
    if _watching.is_set() or not serve.isdigit():
        return
    _watching.set()
    if os.getppid() == int(serve):
        threading.Thread(target=_stop_when_orphaned, args=(int(serve),), daemon=True, name="serve-watch").start()
    elif os.getppid() == 1 and not _alive(int(serve)):  # orphaned while it started (Prefect's import takes seconds)
        threading.Thread(target=_stop, daemon=True, name="serve-watch").start()
    # Else not serve's own child (a command started from a served run's environment, its serve gone or not): it is
    # no served run to stop.


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_when_orphaned(serve: int) -> None:
    while os.getppid() == serve:
        threading.Event().wait(1.0)
    _stop()


def _stop() -> None:
    """Stop the run as a SIGTERM does, then, once its crawls have closed (their job state saved), end the process:
    with no server to report to, Prefect's engine retried for minutes, and then overwrote the Crashed message the
    next serve had given the run (QA)."""
    from flows.crawl import crawls_in_flight

    os.kill(os.getpid(), signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while crawls_in_flight() and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2.0)  # the stop's own last steps
    os._exit(128 + signal.SIGTERM)
