"""Run a spider in a child process and collect its counts.

Crawls never run inside the calling process: a Twisted reactor cannot be restarted, and a
Prefect worker or a test session would need to crawl more than once. The child writes the
landing zone and a stats file; this module watches the landing file to show progress and
reads the stats file when the child exits.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from crawlers.landing import DATA_DIR_ENV, data_dir, free_bytes, new_run_id, run_paths, safe_name
from flows.config import SPIDERS
from flows.errors import CrawlFailed, ReviewsError
from flows.folders import check_writable
from flows.incremental import close_job, crawl_lock, finish_reason, job_dir, open_job, write_marker
from flows.served import is_served


@dataclass
class CrawlResult:
    spider: str
    source: str
    run_id: str
    items_path: Path
    rejects_path: Path
    log_path: Path
    returncode: int
    seconds: float
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def landed(self) -> int:
        return int(self.stats.get("landed", 0))


def count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


# Crawl children alive in this process, so a stop reaching the main thread while crawls run in worker threads
# (flows.parallel) can stop each of them once.
_live: set[subprocess.Popen[bytes]] = set()
_live_lock = threading.Lock()
# Set once a stop reached the run: no crawl starts or is retried after it.
stopping = threading.Event()
# Set by a stop signal (sigterm_as_interrupt), for the steps that must not miss one: Python drops a
# KeyboardInterrupt raised while a finalizer runs ("Exception ignored in: <function _SelectorTransport.__del__"),
# and a load went on to commit its batch after a Ctrl-C, exit 0 (seen once in the suite, on a busy machine).
# Cleared by a command as it starts (flows/cli.py run_pipeline): a stop dropped while the Prefect server started
# must still count in the flow (review).
class Flag:
    """A flag that signal handlers set: threading.Event.set takes a lock, and a second signal whose handler ran while
    the first handler held it (a SIGINT and a SIGTERM at the same instant) deadlocked the process. Nothing waits on
    it; setting and reading an attribute needs no lock."""

    def __init__(self) -> None:
        self._value = False

    def set(self) -> None:
        self._value = True

    def clear(self) -> None:
        self._value = False

    def is_set(self) -> bool:
        return self._value


signalled = Flag()
# Set by the `reviews` command (flows/entry.py): once a stop has ended a command's work, a second signal only cut its
# last line short and turned exit 130 into -2 or -15 (stop-timing QA); a Python caller gets its handlers back.
ignore_after_stop = False


def stop_all_crawls() -> None:
    """Send each running crawl child one SIGTERM: Scrapy closes gracefully, keeping its JOBDIR and stats (a
    second signal would make it stop uncleanly). Safe to call again: a child is signalled once."""
    stopping.set()
    with _live_lock:
        children = list(_live)
        _live.clear()
    for child in children:
        if child.poll() is None:
            child.terminate()


def crawl_command(spider: str, urls: list[str], source: str, run_id: str,
                  settings: dict[str, Any] | None = None, spider_args: dict[str, str] | None = None) -> list[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", spider, "-a", f"url={','.join(urls)}",
               "-a", f"source={source}", "-a", f"run_id={run_id}"]
    for key, value in (spider_args or {}).items():
        command += ["-a", f"{key}={value}"]
    for key, value in (settings or {}).items():
        command += ["-s", f"{key}={value}"]
    return command


def run_crawl(spider: str, urls: list[str], source: str | None = None, data: str | Path | None = None,
              run_id: str | None = None, settings: dict[str, Any] | None = None,
              spider_args: dict[str, str] | None = None, show_progress: bool = True,
              console: Console | None = None, resumable: bool = False) -> CrawlResult:
    """Crawl `urls` with `spider` in a child process; raises ReviewsError if it fails.

    With `resumable`, the crawl keeps a JOBDIR per source (see flows.incremental) so a crawl stopped by
    SIGTERM or Ctrl-C continues where it stopped on the next run.
    """
    if spider not in SPIDERS:
        raise ReviewsError(f"unknown spider {spider!r}; choose one of: {', '.join(SPIDERS)}")
    if not urls:
        raise ReviewsError(f"spider {spider!r} needs at least one --url")
    if spider == "profile":
        # Checked here, not only in the child, whose constructor error would be "crawl failed, see the log".
        from flows.config import read_profile

        profile = (spider_args or {}).get("profile")
        if not profile:
            raise ReviewsError("the profile spider needs a site profile: --profile FILE, or profile = in the source")
        read_profile(profile)
    root = data_dir(data).resolve()
    source = source or spider
    check_room(root, settings)
    run_id = run_id or new_run_id()
    paths = run_paths(root, source, run_id)
    log_path = root / "logs" / safe_name(source) / f"{run_id}.log"  # as run_paths names the source's folders
    check_writable(paths["items"].parent, "the crawl's landing files")
    check_writable(log_path.parent, "the crawl logs")
    check_writable(root / "state", "the retry lists and canary pages every crawl keeps")
    cache = (settings or {}).get("HTTPCACHE_DIR")
    if (settings or {}).get("HTTPCACHE_ENABLED") and cache and Path(cache).is_absolute():
        # Unwritable, every response failed to be cached and the run read as a site that was down.
        check_writable(Path(cache), "the pages an incremental crawl revalidates")
    env = {**os.environ, DATA_DIR_ENV: str(root), "SCRAPY_SETTINGS_MODULE": "crawlers.settings"}
    settings = dict(settings or {})
    jobs = job_dir(root, source) if resumable else None
    # One crawl of a source at a time (another live run's crawl: SourceBusy, its JOBDIR left alone).
    with crawl_lock(jobs) if jobs is not None else nullcontext() as lock:
        job_state = None
        if jobs is not None:
            check_writable(jobs, "the state a stopped crawl resumes from")  # under the lock: no other crawl is in it
            job_state = open_job(jobs)
            if show_progress or job_state != "fresh":  # --quiet still hears of a resumed or discarded crawl
                (console or Console(stderr=True)).print(f"{source}: job state {job_state}", highlight=False)
            settings["JOBDIR"] = str(jobs)
            # A resumed crawl covers only the rest of a site: health checks must know.
            settings["REVIEWS_JOB_STATE"] = job_state
        if stopping.is_set():  # the run was stopped while this crawl was about to begin
            if jobs is not None:  # its job state untouched: kept to resume (open_job's marker read as a crash: review)
                close_job(jobs, "shutdown")
            raise CrawlFailed(f"crawl {spider} for {source} not started: the run was stopped")
        command = crawl_command(spider, urls, source, run_id, settings, spider_args)
        started = time.monotonic()
        with log_path.open("w", encoding="utf-8") as log, sigterm_as_interrupt():
            # Its own session: a terminal's Ctrl-C or a group signal reaches the parent only, which forwards
            # exactly one SIGTERM (a second signal would make Scrapy stop uncleanly).
            # The child shares the source's crawl lock, so it stays taken while the crawl runs even if this
            # process is killed first.
            # SIGTERM blocked in the child until its shutdown handler is in place (crawlers/shutdown.py): a stop that
            # came while Scrapy loaded killed it, and the next run discarded the saved queue as a crash's (QA).
            child = None
            try:
                # In the try: a stop held back while the child started is delivered as the mask is restored, and
                # must reach the child (it ran the whole crawl alone: review).
                with _sigterm_blocked():
                    child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                             start_new_session=True, pass_fds=() if lock is None else (lock,))
                if jobs is not None:
                    write_marker(jobs, (os.getpid(), child.pid), paths["stats"])
                with _live_lock:
                    _live.add(child)
                _wait_with_progress(child, paths["items"], f"{spider} → {source}", show_progress, console)
            except KeyboardInterrupt:
                if child is None:
                    raise
                child.terminate()  # Scrapy closes gracefully, saving its JOBDIR and stats
                while True:
                    try:
                        child.wait()
                        break
                    except KeyboardInterrupt:  # another Ctrl-C: the close is under way, and leaving now
                        continue  # would orphan the crawl and lose its job state
                if jobs is not None:
                    close_job(jobs, finish_reason(paths["stats"]))
                raise
            finally:
                with _live_lock:
                    _live.discard(child)  # type: ignore[arg-type]
        stats_path = paths["stats"]
        stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
        if jobs is not None:
            # No stats: the child died without closing (SIGKILL, the OOM killer), and close_job keeps the
            # RUNNING marker so the next run discards the torn job state instead of resuming it.
            close_job(jobs, finish_reason(stats_path))
        result = CrawlResult(spider, source, run_id, paths["items"], paths["rejects"], log_path,
                             child.returncode, time.monotonic() - started, stats)
        if child.returncode != 0 or not stats:
            how = f"exit {child.returncode}" if child.returncode else "it ended without writing its stats"
            raise CrawlFailed(f"crawl {spider} for {source} failed ({how}); see {log_path}")
        return result


@contextmanager
def _sigterm_blocked() -> Iterator[None]:
    """SIGTERM blocked in this thread, so in a child it starts: the mask is inherited through fork and exec. A
    SIGTERM for this process meanwhile waits the few milliseconds and is then delivered."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def check_room(root: Path, settings: dict[str, Any] | None = None, what: str = "") -> None:
    """Refuse to start a crawl or a run on a disk without room for landing files, job state, cache and the
    warehouse's writes (a crawl that runs out of room mid-way closes as `disk_full`: crawlers/shutdown.py). `what`
    names another folder checked the same way (Prefect's, flows/prefect_server.py)."""
    from crawlers.settings import REVIEWS_MIN_FREE_MB, min_free_mb

    # "abc" was a traceback, "-5" taken silently (config QA).
    if (value := os.environ.get("REVIEWS_MIN_FREE_MB")) is not None and min_free_mb(value) is None:
        raise ReviewsError(f"REVIEWS_MIN_FREE_MB must be a finite number of MB >= 0, not {value!r}")

    floor = float((settings or {}).get("REVIEWS_MIN_FREE_MB", REVIEWS_MIN_FREE_MB))
    free = free_bytes(root)
    if free < floor * 2**20:
        # 1048576 MB read "1.04858e+06" (diagnosis QA).
        where = f"{root} ({what})" if what else str(root)
        advice = ("free some room there" if what else
                  "free some room (`reviews prune` deletes old landing files)")
        needed = f"{floor:,.0f}" if floor >= 1 else f"{floor:g}"
        raise ReviewsError(f"only {free / 2**20:.1f} MB free on the disk of {where}, under the {needed} MB a "
                           f"crawl or load needs (REVIEWS_MIN_FREE_MB); {advice}")


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt, as Ctrl-C is: a stopped parent stops its crawl cleanly, never
    orphaned, and a stopped load rolls back and ends the run with one line (Prefect's own SIGTERM handler would
    record the run as crashed and end the process by the signal). Either signal also sets `signalled`."""

    def interrupt(signum: int, frame: Any) -> None:
        if signalled.is_set() and is_served():
            # A run `reviews serve` started hears one stop twice: the terminal's Ctrl-C (or systemd's SIGTERM to
            # every process) and then the runner's SIGTERM. A second KeyboardInterrupt cut its clean stop short.
            return
        if _in_finalizer(frame):
            # Raised inside a `__del__`, Python prints it ("Exception ignored in: <function SetBase.__del__>" and a
            # traceback, under the command's one `stopped` line) and drops it: the same signal comes again once the
            # finalizer has run (seen in the suite), a real one (it wakes a blocking wait), but only while this
            # handler is still there (after the block it met the default handler and killed the process: QA).
            deferred.append(timer := threading.Timer(0.05, resend, (signum,)))
            timer.start()
            return
        signalled.set()
        raise KeyboardInterrupt

    deferred: list[threading.Timer] = []
    guard = threading.Lock()
    active = [True]

    def resend(signum: int) -> None:
        with guard:
            if active[0]:
                signal.pthread_kill(threading.main_thread().ident or 0, signum)

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals to whoever owns it
        yield
        return
    # Ctrl-C as Python's own handler takes it, plus the flag; a SIGINT the process was started to ignore
    # (a background job of a script) stays ignored.
    previous_int = signal.getsignal(signal.SIGINT)
    if previous_int is signal.default_int_handler:
        signal.signal(signal.SIGINT, interrupt)
    stopped = False  # a stop ends the block (a KeyboardInterrupt raised elsewhere: `reviews sql` takes its own)
    try:
        yield
    except KeyboardInterrupt:
        stopped = True
        raise
    finally:
        try:
            with guard:  # a stop sent again after this is not sent: the block has ended, its work done
                active[0] = False
            for timer in deferred:
                timer.cancel()
        finally:  # restored even when that stop, sent just before, interrupts the lines above
            # A served run's engine takes SIGTERM back here and records a later one (the group's second, the runner's
            # own) as Crashed after our Cancelled (stop-timing QA): it ends by itself, and the runner kills it at need.
            after = signal.SIG_IGN if (ignore_after_stop or is_served()) and (stopped or signalled.is_set()) else None
            signal.signal(signal.SIGTERM, after or previous)
            if previous_int is signal.default_int_handler:
                signal.signal(signal.SIGINT, after or previous_int)
            if deferred:  # what comes after the block (a served run's end) still knows a stop came
                signalled.set()


def _in_finalizer(frame: Any) -> bool:
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


def _wait_with_progress(child: subprocess.Popen[bytes], items: Path, label: str, show: bool,
                        console: Console | None) -> None:
    if not show:
        child.wait()
        return
    columns = (SpinnerColumn(), TextColumn("[bold]{task.description}"), TextColumn("{task.completed} reviews"),
               TimeElapsedColumn())
    with Progress(*columns, console=console or Console(stderr=True), transient=True) as progress:
        task = progress.add_task(label, total=None)
        while child.poll() is None:
            progress.update(task, completed=count_lines(items))
            time.sleep(0.25)
