"""`reviews prune`: delete the landing files and crawl logs of runs the warehouse has loaded, once they are old.

The landing zone grows with every run, also when nothing changed (a revalidated page is landed again, which is
what keeps `last_seen` true). Once a run is in `crawl_runs` its batch is in the warehouse and nothing reads its
files again: not the loads (flows.load.pending_batches skips loaded runs), not `reviews status` (it lists only
runs not in crawl_runs), not the incremental state (built from the warehouse), the report or the upgrades (they
read the warehouse). `reviews demo` reads its own run's file once more, just after loading it: a day before any
cutoff. So a loaded run's files may go; anything else stays:

- a pending run (not in crawl_runs), however old: its reviews are not in the warehouse yet;
- a run a crawl still holds the lock of (crawlers.extensions.BatchLock): its files are still growing;
- a run whose landing file no longer hashes to the `batch_sha1` recorded when it was loaded. A current load
  never takes a batch that is still written, but a warehouse loaded before BatchLock existed may have loaded the
  first lines of a crawl that went on writing; the rest of that file was never loaded.

The warehouse is read once, read-only and briefly (a run's load waits for readers to let go), before any file is
touched. A run being loaded meanwhile is not in crawl_runs yet, so it is kept.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from crawlers.landing import being_written, run_paths, safe_name
from flows.errors import ReviewsError
from flows.load import file_sha1, started_from_run_id
from warehouse.db import WarehouseError, connect, first_line, warehouse_path

# Whole days or weeks only: landing files pile up by the week, hours would invite cutting into the run just
# loaded, and `m` is ambiguous (minutes or months). [0-9], not \d, which also takes other scripts' digits.
_DURATION = re.compile(r"([0-9]+)([dw])")
_DAYS_PER_UNIT = {"d": 1, "w": 7}
# How many paths a warning names; the rest are counted.
_SHOWN = 5

LOADED_RUNS = """
select source, run_id, min(started), list(distinct batch_sha1) filter (where batch_sha1 is not null)
from crawl_runs
group by source, run_id
"""


def parse_duration(text: str) -> timedelta:
    """`30d` or `8w`: a whole number of days or weeks, at least one day; ReviewsError for anything else."""
    match = _DURATION.fullmatch(text)
    if not match or int(match.group(1)) == 0:
        raise ReviewsError(f"--older-than {text!r} is not a duration: give a whole number of days or weeks, at "
                           "least 1d, e.g. 30d or 8w")
    days = int(match.group(1)) * _DAYS_PER_UNIT[match.group(2)]
    if days > (datetime.now(UTC).date() - date.min).days:  # the cutoff would be no date
        raise ReviewsError(f"--older-than {text} reaches back before the year 1")
    return timedelta(days=days)


@dataclass(frozen=True)
class LoadedRun:
    """A run recorded in crawl_runs: when it started and the hashes of the landing file it was loaded from
    (one per load: a run recorded twice was loaded twice)."""

    source: str
    run_id: str
    started: datetime | None
    batch_sha1s: frozenset[str]

    def files(self, root: Path) -> dict[str, Path]:
        """Its landing files, crawl log and lock, as the crawl named them (flows.crawl.run_crawl)."""
        paths = run_paths(root, self.source, self.run_id)
        paths["log"] = root / "logs" / safe_name(self.source) / f"{safe_name(self.run_id)}.log"
        return paths


@dataclass
class PruneResult:
    cutoff: datetime  # naive UTC, as run ids and crawl_runs are
    dry_run: bool
    warehouse: Path
    has_warehouse: bool = True
    runs: Counter[str] = field(default_factory=Counter)  # removed per source
    lone_logs: int = 0  # logs of crawls that landed nothing
    files: int = 0
    bytes_freed: int = 0
    changed: list[Path] = field(default_factory=list)
    writing: list[Path] = field(default_factory=list)
    unremoved: list[str] = field(default_factory=list)  # "path: reason"

    def summary(self) -> list[str]:
        """What was removed, or would be with --dry-run, in a few lines for a terminal or a cron mail."""
        before = f"started before {self.cutoff:%Y-%m-%d %H:%M} UTC"
        if not self.has_warehouse:
            return [f"nothing to prune: no warehouse at {self.warehouse}, so no run is loaded yet"]
        if not self.runs and self.unremoved:
            return []  # the failure line says what could not be removed; "nothing to prune" would contradict it
        if not self.runs and not self.lone_logs:
            return [f"nothing to prune: no loaded run {before} has files left"]
        total = sum(self.runs.values())
        verb = "would remove" if self.dry_run else "removed"
        lone = f" and {_count(self.lone_logs, 'log')} of crawls that landed nothing" if self.lone_logs else ""
        return [f"{verb} {_count(total, 'loaded run')}{lone} {before}: {_count(self.files, 'file')}, "
                f"{_size(self.bytes_freed)}",
                *(f"  {source}: {_count(n, 'run')}" for source, n in sorted(self.runs.items()))]

    def warnings(self) -> list[str]:
        """The loaded runs kept although old, with why: each needs a person to look at it."""
        lines = []
        if self.changed:
            lines.append(f"kept {_count(len(self.changed), 'loaded run')} whose landing file is not the one loaded "
                         f"(its sha1 is not crawl_runs.batch_sha1: written to after the load?), so part of it may "
                         f"not be in the warehouse; check and delete by hand: {_listed(self.changed)}")
        if self.writing:
            lines.append(f"kept {_count(len(self.writing), 'loaded run')} a crawl is still writing (its .lock is "
                         f"held): {_listed(self.writing)}")
        return lines

    def failure(self) -> str | None:
        """One line naming the files that could not be removed (permissions, a read-only disk), if any."""
        if not self.unremoved:
            return None
        return f"could not remove {_count(len(self.unremoved), 'file')}: {'; '.join(self.unremoved)}"


def loaded_runs(database: Path) -> list[LoadedRun]:
    """Every run in crawl_runs. The connection is closed before any file is touched: a reader that stays
    makes the next load wait for it."""
    try:
        with connect(database, read_only=True) as conn:
            rows = conn.execute(LOADED_RUNS).fetchall()
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot read crawl_runs in {database}: {first_line(exc)}") from None
    return [LoadedRun(source, run_id, started, frozenset(sha1s or ())) for source, run_id, started, sha1s in rows]


def run_started(run: LoadedRun) -> datetime | None:
    """When the run started, from its run id (the time in its file names, so `ls` shows what a cutoff takes;
    known for a killed run too, whose finish is not), else as recorded; None when neither tells."""
    return started_from_run_id(run.run_id) or run.started


def prune_landing(root: Path, older_than: timedelta, dry_run: bool = False) -> PruneResult:
    """Remove (with `dry_run`, only count) the files of loaded runs that started longer than `older_than` ago."""
    database = warehouse_path(root)
    cutoff = datetime.now(UTC).replace(tzinfo=None) - older_than
    result = PruneResult(cutoff=cutoff, dry_run=dry_run, warehouse=database)
    if not database.exists():
        result.has_warehouse = False
        return result
    for run in sorted(loaded_runs(database), key=lambda r: (r.run_id, r.source)):
        began = run_started(run)
        if began is None or began >= cutoff:
            continue
        paths = run.files(root)
        if being_written(paths["lock"]):
            result.writing.append(paths["items"])
            continue
        # The same hash of the same bytes as the load recorded; a file removed by hand leaves nothing to lose.
        digest = file_sha1(paths["items"])
        if digest is not None and digest not in run.batch_sha1s:
            result.changed.append(paths["items"])
            continue
        removed = _remove([paths[kind] for kind in ("items", "rejects", "stats", "log", "lock")], dry_run, result)
        if removed:
            result.runs[run.source] += 1
    _prune_lone_logs(root, cutoff, dry_run, result)
    return result


def _prune_lone_logs(root: Path, cutoff: datetime, dry_run: bool, result: PruneResult) -> None:
    """The logs of crawls killed before they landed anything: no landing file names their run, so no load ever
    records it, and they stayed for good (ops QA: up to three a failed run, with its retries)."""
    for log in sorted((root / "logs").glob("*/*.log")):
        began = started_from_run_id(log.stem)
        if began is None or began >= cutoff:
            continue
        landing = root / "raw" / log.parent.name
        if any(landing.glob(f"{log.stem}.*")):  # a run with files is a loaded run's (above) or a pending one
            continue
        if _remove([log], dry_run, result):
            result.lone_logs += 1


def _remove(paths: list[Path], dry_run: bool, result: PruneResult) -> bool:
    """Remove those of `paths` that exist, counting them into `result`; whether any was there."""
    found = False
    for path in paths:
        try:
            size = path.stat().st_size
            if not dry_run:
                path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            result.unremoved.append(f"{path}: {exc.strerror or exc}")
            continue
        found = True
        result.files += 1
        result.bytes_freed += size
    return found


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit} ({n:,} bytes)"
    return _count(n, "byte")


def _listed(paths: list[Path]) -> str:
    more = len(paths) - _SHOWN
    return ", ".join(str(p) for p in paths[:_SHOWN]) + (f" and {more} more" if more > 0 else "")
