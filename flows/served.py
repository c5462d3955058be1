"""What a flow run that `reviews serve` started sets up first (SERVED_ENV set; nothing elsewhere).

- Prefect's console records in one line per failure (flows/quiet_errors.py).
- SIGINT ignored: a terminal's Ctrl-C reaches serve's whole process group, runs included. A run it stopped
  directly recorded itself Crashed before the runner, which takes the Ctrl-C as its SIGTERM (flows/serve_runner.py),
  came to stop it and record it Cancelled. The runner's SIGTERM still stops it, as does systemd's.
- A stop when serve is gone: a run whose serve was killed with -9 went on crawling for minutes, reparented, while
  the next serve marked it Crashed (serve QA). Its parent is checked every second; once it changed, the run stops
  itself as a SIGTERM would stop it (its crawl closes cleanly and keeps its job).
"""

from __future__ import annotations

import os
import signal
import threading

from flows.quiet_errors import SERVED_ENV, quiet_served_run

_watching = threading.Event()


def prepare_served_run() -> None:
    if not os.environ.get(SERVED_ENV):
        return
    quiet_served_run()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not _watching.is_set():
        _watching.set()
        threading.Thread(target=_stop_when_orphaned, args=(os.getppid(),), daemon=True, name="serve-watch").start()


def _stop_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        threading.Event().wait(1.0)
    os.kill(os.getpid(), signal.SIGTERM)
