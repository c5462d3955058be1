"""What a source's next crawl needs to know from the warehouse, and where a stopped crawl resumes.

Before a crawl, the source's state is written to `<data>/state/<source>.json`: when its last complete
crawl started (sitemap entries not modified since are skipped) and the review ids already loaded (a
listing page of known reviews is not paginated further). `--full` ignores it.

A crawl keeps Scrapy's JOBDIR in `<data>/jobs/<source>/`: stopped by SIGTERM or Ctrl-C, Scrapy saves its
queue there and the next run resumes. A RUNNING marker tells a crash (SIGKILL of the crawl or of the
process running it, power loss) from a clean stop: it is removed only when the crawl wrote its stats
with a finish reason, so after a crash the job state, which may be torn, is discarded and the next run
crawls afresh. The marker names the crawl's stats file too: a crawl child that outlived its killed run and
then closed by itself (its stats written, nobody left to remove the marker) is no crash.
A job whose saved queue holds no request is discarded too: resuming it would fetch
nothing, since its dupefilter already holds the start pages. The idempotent load makes the warehouse
end the same either way.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from crawlers.landing import safe_name, write_atomic
from flows.errors import ReviewsError, SourceBusy
from flows.folders import check_writable
from flows.importer import IMPORT_SPIDER

RUNNING_MARKER = "RUNNING"


def write_state(conn: duckdb.DuckDBPyConnection, root: Path, source: str) -> Path:
    folder = root / "state"
    check_writable(folder, "the retry lists and canary pages every crawl keeps")
    name = safe_name(source)
    ids_path = folder / f"{name}.known.txt"
    known = conn.execute("select source_review_id from review_keys where source = ?", [source]).fetchall()
    ids = {row[0] for row in known}
    ids |= _pending_ids(conn, root, source)
    ids_path.write_text("\n".join(sorted(ids)), encoding="utf-8")
    # The last complete crawl from the start: a resumed run began after the crawl it completes did.
    # An import into the source's name (flows/importer.py refuses one, but older data may hold it) is no crawl.
    # Nor is a run judged unhealthy: a site that was down (every request failed) or broken finished without
    # reading it, and pages modified before such a run would otherwise be skipped for good.
    # A start after now is a wrong clock's, then or now: as the yardstick it skipped every page modified since
    # the real last crawl for as long as the clock was wrong (ops QA: a year).
    since = conn.execute("select max(started) from crawl_runs where source = ? and finish_reason = 'finished' "
                         "and not coalesce(resumed, false) and spider is distinct from ? "
                         "and healthy is distinct from false and started <= ?",
                         [source, IMPORT_SPIDER, _latest_believable()]).fetchall()[0][0]
    pending = [when for when in _pending_complete_crawls(conn, root, source) if when <= _latest_believable()]
    since = max([since, *pending], key=lambda when: when or datetime.min)
    state = folder / f"{name}.json"
    state.write_text(json.dumps({"since": since.isoformat() if since else None,
                                 "known_ids_path": str(ids_path), "known_ids": len(ids)}), encoding="utf-8")
    return state


CLOCK_SLACK = timedelta(minutes=10)  # how far a recorded start may lie after now before the clock is doubted


def _latest_believable() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None) + CLOCK_SLACK


def clock_behind(conn: duckdb.DuckDBPyConnection, source: str) -> str | None:
    """A warning when the source's last crawl started after now: this machine's clock is wrong now, or was then.
    Until it passes that time, a review edited since reads as an older copy (its fetch before its last_seen) and
    the edit is not applied; sitemap entries are judged against the crawls before it (ops QA)."""
    latest = conn.execute("select max(started) from crawl_runs where source = ? and spider is distinct from ?",
                          [source, IMPORT_SPIDER]).fetchone()[0]
    if latest is None or latest <= _latest_believable():
        return None
    now = datetime.now(UTC).replace(tzinfo=None)
    return (f"the clock reads {now:%Y-%m-%d %H:%M} UTC, before the start of {source}'s last crawl "
            f"({latest:%Y-%m-%d %H:%M} UTC): if the clock is wrong now, set it right; until it passes that time, "
            "reviews edited since that crawl keep their old text")


# A run is due its full crawl up to this much before the exact age: a crawl's recorded start is its child's, a few
# seconds after the run began, so a weekly cron found the last full crawl 27 days 23:59:46 old and put it off a
# whole week; a change to summer time shortens a local cron's day by an hour (time-zone QA).
FULL_CRAWL_SLACK = timedelta(hours=2)


def full_crawl_due(conn: duckdb.DuckDBPyConnection, source: str, every_days: int) -> bool:
    """Whether the source's next crawl should be a full one: its last complete full crawl that fetched pages
    started `every_days` days ago or more. An incremental crawl never revisits pages of known reviews: an edit
    there, a reading the normalizer has since improved, and a site whose pagination broke stay unseen until
    one (FULL_CRAWL_SLACK early). A full crawl judged unhealthy counts too: it says what broke, and every later
    run would otherwise be a full crawl flagged again. A run recorded before crawl_runs.full_crawl (NULL) counts
    as full; a source never crawled is crawled in full anyway (there is no state to skip by)."""
    if every_days <= 0:
        return False
    crawled, last_full = conn.execute(
        "select count(*), max(started) filter (where full_crawl is not false and finish_reason = 'finished' "
        "and not coalesce(resumed, false) and coalesce(pages, 0) > 0 and started <= ?) "
        "from crawl_runs where source = ? and spider is distinct from ?",
        [_latest_believable(), source, IMPORT_SPIDER]).fetchone()
    if not crawled:
        return False
    return last_full is None or \
        datetime.now(UTC).replace(tzinfo=None) - last_full >= timedelta(days=every_days) - FULL_CRAWL_SLACK


def _pending_ids(conn: duckdb.DuckDBPyConnection, root: Path, source: str) -> set[str]:
    """The review ids of the source's batches that landed but are not loaded yet (a crawl that outlived its killed
    run): this run loads them after its crawls, so they are known. Without them the next incremental crawl read
    the whole site again (crash QA: 2,056 pages where 3 do)."""
    from flows.load import pending_batches

    files = [str(batch.items) for batch in pending_batches(conn, root)
             if batch.source == source and batch.items.exists()]
    if not files:
        return set()
    rows = conn.execute("select distinct source_review_id from read_json(?, format = 'newline_delimited', "
                        "columns = {source_review_id: 'VARCHAR'}, ignore_errors = true) "
                        "where source_review_id is not null", [files]).fetchall()
    return {row[0] for row in rows}


def _pending_complete_crawls(conn: duckdb.DuckDBPyConnection, root: Path, source: str) -> list[datetime]:
    """Starts of the source's complete crawls that landed but are not loaded yet: a crawl that outlived its
    killed run, loaded only after this run's crawls. Without them the next crawl would read again everything
    that crawl already covered (every page, after a first crawl)."""
    # Imported here: flows.load brings pyarrow and the normalizer, ~0.3 s a crawl's start has no other use for.
    from flows.load import pending_batches, read_stats, run_started

    starts = []
    for batch in pending_batches(conn, root):
        stats = read_stats(batch) if batch.source == source else {}
        # A landing file deleted by hand (its stats say reviews landed) cannot load: its crawl covered nothing.
        lost = not batch.items.exists() and isinstance(landed := stats.get("landed"), int) and landed > 0
        # Not judged yet, so only a crawl whose every request succeeded (a site that was down also "finishes").
        if stats.get("finish_reason") == "finished" and stats.get("job_state") != "resumed" \
                and stats.get("spider") != IMPORT_SPIDER and stats.get("errors") == 0 and not lost:
            started = run_started(batch, stats)
            if started is not None:
                starts.append(started)
    return starts


def job_dir(root: Path, source: str) -> Path:
    return root / "jobs" / safe_name(source)


def _queue_state(folder: Path) -> object:
    """What Scrapy saved of its request queue when it closed (`requests.queue/active.json`): the
    queues still holding requests, empty when none are left; None when it saved nothing (a crash)."""
    try:
        return json.loads((folder / "requests.queue" / "active.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def write_marker(folder: Path, pids: tuple[int, ...], stats_path: Path | None = None) -> None:
    """The RUNNING marker: the run's pid and its crawl child's on the first line, the crawl's stats file on
    the second. Written whole at once: a supervisor or a waiting run never reads it half-written."""
    text = " ".join(str(pid) for pid in pids) + ("" if stats_path is None else f"\n{stats_path}")
    write_atomic(folder / RUNNING_MARKER, text)


def read_marker(folder: Path) -> tuple[list[int], Path | None]:
    """(pids, stats file) from a RUNNING marker; ([], None) when there is none or it cannot be read."""
    try:
        lines = (folder / RUNNING_MARKER).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return [], None
    pids = [int(word) for word in lines[0].split() if word.isdigit()] if lines else []
    return pids, (Path(lines[1]) if len(lines) > 1 and lines[1].strip() else None)


def finish_reason(stats_path: Path | None) -> str | None:
    """How Scrapy says a crawl ended, from its stats file; None when it wrote none (it was killed)."""
    if stats_path is None:
        return None
    try:
        reason = json.loads(stats_path.read_text(encoding="utf-8")).get("finish_reason")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return None
    return reason if isinstance(reason, str) else None


def open_job(folder: Path) -> str:
    """Prepare the JOBDIR for a crawl, holding the source's crawl_lock; returns 'resumed', 'fresh',
    'discarded after a crash' or 'discarded: nothing left to resume'. (Under the lock a RUNNING marker can
    only be a dead crawl's.)"""
    marker = folder / RUNNING_MARKER
    if marker.exists() and (ended := finish_reason(read_marker(folder)[1])) is not None:
        # The crawl outlived its run (killed with -9) and then closed by itself: its stats say how it
        # ended, as its run would have read them, so its job state is kept or dropped as after any close.
        close_job(folder, ended)
    outcome = "resumed" if folder.exists() and any(folder.iterdir()) else "fresh"
    if marker.exists():
        shutil.rmtree(folder)
        outcome = "discarded after a crash"
    elif outcome == "resumed" and not _queue_state(folder):
        # Nothing queued (or no queue saved at all): a resumed Scrapy would skip the start pages as
        # already seen and crawl nothing, so the next crawl starts afresh.
        shutil.rmtree(folder)
        outcome = "discarded: nothing left to resume"
    folder.mkdir(parents=True, exist_ok=True)
    write_marker(folder, (os.getpid(),))
    return outcome


def crawl_lock_path(folder: Path) -> Path:
    """The crawl lock of the source whose JOBDIR is `folder` (<data>/jobs/<source>), kept out of jobs/."""
    return folder.parent.parent / "locks" / f"{folder.name}.lock"


@contextmanager
def crawl_lock(folder: Path) -> Iterator[int]:
    """Hold the source's crawl lock (`<data>/locks/<source>.lock`, an OS lock) while it is crawled; yields its
    descriptor for the crawl child to share. The operating system lets it go when the last process holding it
    ends, however it ends, so a crash leaves no false "busy" behind (a RUNNING marker's process ids could name
    an unrelated process after a reboot). SourceBusy while another live run crawls the source."""
    path = crawl_lock_path(folder)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # 0o666 less the umask, as every other file here: a team's umask 002 must leave it writable to the group.
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise ReviewsError(f"cannot open the crawl lock {path}: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # Another run's crawl, not a crash: its job state must stay for its resume.
            raise SourceBusy(f"{folder.name} is being crawled by another run{_crawl_processes(folder)}; wait for it "
                             "to end, or stop it, before crawling this source again") from None
        if (pid := _live_crawl(folder)) is not None:
            # The lock file was deleted under a live crawl, which holds the old one (ops QA: a second crawl went on
            # beside it, and took its job state for a crash's and deleted it).
            raise SourceBusy(f"{folder.name} is being crawled by process {pid}, though its crawl lock {path} was "
                             "deleted; wait for it to end, or stop it, before crawling this source again")
        yield descriptor
    finally:
        os.close(descriptor)


def _live_crawl(folder: Path) -> int | None:
    """The process id of the crawl of this source that the RUNNING marker names, if it still runs: a Scrapy
    crawl with this source's name on its command line (after a reboot the id may name another process)."""
    pids, _ = read_marker(folder)
    for pid in pids[1:2]:
        try:
            words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"scrapy" in words and f"source={folder.name}".encode() in words:
            return pid
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _crawl_processes(folder: Path) -> str:
    """' (crawl process N …)' from the source's RUNNING marker, so the user knows what to wait for or stop."""
    pids, _ = read_marker(folder)
    if len(pids) < 2:
        return f" (process {pids[0]})" if pids and _alive(pids[0]) else ""
    run, crawl = pids[:2]
    if _alive(run):
        return f" (run process {run}, its crawl process {crawl})"
    return f" (crawl process {crawl}, going on alone: the run that started it, process {run}, was killed)"


def close_job(folder: Path, finish_reason: str | None) -> None:
    """A finished crawl leaves nothing to resume; a stopped one keeps its queue for the next run.

    `finish_reason` None means the crawl died without writing its stats (killed, out of memory): its
    RUNNING marker stays, so the next run discards the torn job state instead of resuming it.
    """
    if finish_reason == "finished":
        shutil.rmtree(folder, ignore_errors=True)
    elif finish_reason is not None:
        (folder / RUNNING_MARKER).unlink(missing_ok=True)
