"""The data folder's one warehouse writer at a time, across processes: `writer_slot`.

The warehouse is one DuckDB file with one writer at a time, so every pipeline run holds this slot while it
loads and rebuilds marts, and a report while it reads: scheduled runs that fire together queue instead of
failing on DuckDB's file lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flows.errors import ReviewsError

WRITER_LOCK = ".writer.lock"


@contextmanager
def writer_slot(root: Path, timeout_seconds: float | None = None,
                waiting: Callable[[str], object] | None = None,
                cancelled: Callable[[], bool] | None = None) -> Iterator[None]:
    """Hold the data folder's one warehouse-writer slot while writing; other runs wait for it.

    An OS file lock on `<data>/.writer.lock`, so the operating system releases it when its process ends,
    however it ends. (It was a Prefect global concurrency slot: a run killed while holding one left it
    taken, since its lease was kept by the temporary server that died with the run, and every later run
    waited for it for ever.) `waiting` hears once that the slot is taken, before the wait; TimeoutError
    after `timeout_seconds` (None: no limit, as queued scheduled runs want). `cancelled`, asked every second
    while waiting, ends the wait with InterruptedError: a worker thread gets no KeyboardInterrupt, so a stopped
    run's crawl would otherwise wait for another run's load to end.
    """
    from filelock import FileLock, Timeout

    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(root / WRITER_LOCK)
    try:
        lock.acquire(timeout=0)
    except PermissionError as exc:  # a lock file another user's run left, in a shared folder
        raise ReviewsError(f"cannot open the writer lock {root / WRITER_LOCK}: {exc.strerror or exc}; it must be "
                           "writable by everyone who runs reviews on this data folder") from None
    except Timeout:
        if waiting is not None:
            waiting(f"another run is writing the warehouse in {root}; waiting for it to finish")
        deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        while True:
            if cancelled is not None and cancelled():
                raise InterruptedError(f"stopped while waiting for the warehouse writer lock in {root}") from None
            step = 1.0 if deadline is None else min(1.0, max(0.0, deadline - time.monotonic()))
            try:
                lock.acquire(timeout=step)
                break
            except Timeout:
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError(f"another run still writes the warehouse in {root} after "
                                       f"{timeout_seconds:g} s") from None
    try:
        yield
    finally:
        lock.release()
