"""Python's share of a batch, run in order in one background thread while DuckDB works on the rest.

A daemon thread, not a ThreadPoolExecutor: a pool's exit, and the interpreter's, wait for its work, so a run
stopped by SIGTERM or Ctrl-C during normalization sat ~30 s in language detection of a million-row dump before
it could roll back and exit (import QA). Work queued after a stop is skipped, the running piece is told through
`stopped` (clean_flagged looks at it between chunks), and whatever is left ends with the process.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class PythonShare:
    """Runs submitted functions one after another in a daemon thread; `close` after the last, and always."""

    def __init__(self, name: str = "normalize") -> None:
        self.stopped = threading.Event()
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]] | None] = (
            queue.SimpleQueue())
        threading.Thread(target=self._work, name=name, daemon=True).start()

    def submit(self, function: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        self._jobs.put((future, function, args))
        return future

    def close(self, stop: bool = False) -> None:
        """No more work; with `stop`, what is queued is skipped and the running piece may end early."""
        if stop:
            self.stopped.set()
        self._jobs.put(None)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, function, args = job
            if self.stopped.is_set():
                future.cancel()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(function(*args))
                except BaseException as exc:  # handed to the waiting caller, as a pool would
                    future.set_exception(exc)
            # Not kept while waiting for the next job: the inputs are large (a million texts in Arrow).
            del job, future, function, args


class Stopped(Exception):
    """The batch's run was stopped while this piece of Python's share was running."""
