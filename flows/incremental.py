"""What a source's next crawl needs to know from the warehouse, and where a stopped crawl resumes.

Before a crawl, the source's state is written to `<data>/state/<source>.json`: when its last complete
crawl started (sitemap entries not modified since are skipped) and the review ids already loaded (a
listing page of known reviews is not paginated further). `--full` ignores it.

A crawl keeps Scrapy's JOBDIR in `<data>/jobs/<source>/`: stopped by SIGTERM or Ctrl-C, Scrapy saves its
queue there and the next run resumes. A RUNNING marker tells a crash (SIGKILL of the crawl or of the
process running it, power loss) from a clean stop: it is removed only when the crawl wrote its stats
with a finish reason, so after a crash the job state, which may be torn, is discarded and the next run
crawls afresh. A job whose saved queue holds no request is discarded too: resuming it would fetch
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
from pathlib import Path

import duckdb

from crawlers.landing import safe_name
from flows.errors import SourceBusy
from flows.importer import IMPORT_SPIDER

RUNNING_MARKER = "RUNNING"


def write_state(conn: duckdb.DuckDBPyConnection, root: Path, source: str) -> Path:
    folder = root / "state"
    folder.mkdir(parents=True, exist_ok=True)
    name = safe_name(source)
    ids_path = folder / f"{name}.known.txt"
    ids = conn.execute("select source_review_id from review_keys where source = ?", [source]).fetchall()
    ids_path.write_text("\n".join(row[0] for row in ids), encoding="utf-8")
    # The last complete crawl from the start: a resumed run began after the crawl it completes did.
    # An import into the source's name (flows/importer.py refuses one, but older data may hold it) is no crawl.
    since = conn.execute("select max(started) from crawl_runs where source = ? and finish_reason = 'finished' "
                         "and not coalesce(resumed, false) and spider is distinct from ?",
                         [source, IMPORT_SPIDER]).fetchall()[0][0]
    state = folder / f"{name}.json"
    state.write_text(json.dumps({"since": since.isoformat() if since else None,
                                 "known_ids_path": str(ids_path), "known_ids": len(ids)}), encoding="utf-8")
    return state


def job_dir(root: Path, source: str) -> Path:
    return root / "jobs" / safe_name(source)


def _queue_state(folder: Path) -> object:
    """What Scrapy saved of its request queue when it closed (`requests.queue/active.json`): the
    queues still holding requests, empty when none are left; None when it saved nothing (a crash)."""
    try:
        return json.loads((folder / "requests.queue" / "active.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def open_job(folder: Path) -> str:
    """Prepare the JOBDIR for a crawl, holding the source's crawl_lock; returns 'resumed', 'fresh',
    'discarded after a crash' or 'discarded: nothing left to resume'. (Under the lock a RUNNING marker can
    only be a dead crawl's.)"""
    marker = folder / RUNNING_MARKER
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
    marker.write_text(str(os.getpid()), encoding="utf-8")
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
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # Another run's crawl, not a crash: its job state must stay for its resume.
            raise SourceBusy(f"{folder.name} is being crawled by another run; wait for it to end, or stop it, "
                             "before crawling this source again") from None
        yield descriptor
    finally:
        os.close(descriptor)


def close_job(folder: Path, finish_reason: str | None) -> None:
    """A finished crawl leaves nothing to resume; a stopped one keeps its queue for the next run.

    `finish_reason` None means the crawl died without writing its stats (killed, out of memory): its
    RUNNING marker stays, so the next run discards the torn job state instead of resuming it.
    """
    if finish_reason == "finished":
        shutil.rmtree(folder, ignore_errors=True)
    elif finish_reason is not None:
        (folder / RUNNING_MARKER).unlink(missing_ok=True)
