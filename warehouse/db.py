"""Opening the DuckDB warehouse and applying its numbered migrations.

One process writes; readers open read-only. DuckDB lets no other process open a file while a
writer holds it, so a reader that meets the lock gets a WarehouseBusy with a clear message
instead of DuckDB's IOException.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb

DEFAULT_FILE = "reviews.duckdb"
# DuckDB takes 80% of RAM by default; a bounded limit makes big loads spill to disk instead.
MEMORY_LIMIT_ENV = "REVIEWS_DUCKDB_MEMORY_LIMIT"
MEMORY_LIMIT = os.environ.get(MEMORY_LIMIT_ENV, "1GB")  # checked by memory_limit() when a connection opens
# The least accepted: `reviews demo` loads within 100MB; with 10MB DuckDB runs out of memory mid-load.
MIN_MEMORY_LIMIT_BYTES = 100 * 1000**2
_MEMORY_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(kb|mb|gb|tb|kib|mib|gib|tib)\s*$", re.IGNORECASE)
_MEMORY_UNITS = {"kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
                 "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}
_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


class WarehouseError(Exception):
    """A warehouse problem a user can act on (busy, missing, bad SQL)."""


class WarehouseBusy(WarehouseError):
    pass


class WarehouseDamaged(WarehouseError):
    """Blocks that fail DuckDB's checksum: every later step would fail the same way, so it ends the run."""


def warehouse_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / DEFAULT_FILE


def missing(path: str | Path, hint: str = "") -> WarehouseError:
    """The one message for a command that needs a warehouse no run has made yet."""
    return WarehouseError(f"no warehouse at {path}{hint}; run `reviews run` or `reviews demo` first")


def memory_limit(value: str | None = None) -> str:
    """DuckDB's memory_limit from REVIEWS_DUCKDB_MEMORY_LIMIT (or `value`): a size with a unit, at least
    100MB. DuckDB itself rejects a bare number with a parser error, reads "-1GB" or "80%" as no limit,
    and with a few MB fails later, mid-load, with an out-of-memory error."""
    value = MEMORY_LIMIT if value is None else value
    match = _MEMORY_SIZE.match(value)
    if not match or float(match.group(1)) * _MEMORY_UNITS[match.group(2).lower()] < MIN_MEMORY_LIMIT_BYTES:
        raise WarehouseError(f"{MEMORY_LIMIT_ENV}={value!r} is not a usable memory limit: give a size with a "
                             "unit (KB, MB, GB, TB or KiB, MiB, GiB, TiB) of at least 100MB, e.g. "
                             f"{MEMORY_LIMIT_ENV}=2GB, or unset it for the default 1GB")
    return value.strip()


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """The warehouse, in UTC: its timestamps are naive UTC, and a timestamp written without a zone
    must read the same on every machine, not in the local zone of whoever runs the load."""
    path = Path(path)
    limit = memory_limit()
    if read_only and not path.exists():
        raise missing(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = duckdb.connect(str(path), read_only=read_only, config={"memory_limit": limit})
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseBusy(f"the warehouse {path} is being written by another process (a run loading it, "
                                "or a report rebuilding its marts); try again when it finishes") from None
        raise WarehouseError(f"cannot open {path}: {exc}") from None
    except duckdb.Error as exc:  # a damaged file (cut short, overwritten) fails as it is read
        raise WarehouseError(unusable(path, exc)) from None
    # Not in the connect config: the setting needs the ICU extension, loaded only once connected.
    conn.execute("set TimeZone = 'UTC'")
    return conn


def check_writable(path: str | Path, wait_seconds: float = 10.0) -> None:
    """Raise WarehouseBusy now if another process holds the warehouse, so a run that could not load
    says so in one line before it crawls, instead of failing inside the flow. It waits `wait_seconds`,
    long enough for a reader's moment (a `reviews sql` query), not for another run's load."""
    if Path(path).exists():
        connect_writer(path, wait_seconds).close()


# How long a write waits for readers to let go: `reviews sql`, `reviews report` and `reviews status` hold the
# file for a moment, and DuckDB lets no writer in while another process has it open, even read-only.
WRITER_WAIT_SECONDS = 60.0


def connect_writer(path: str | Path, wait_seconds: float | None = None) -> duckdb.DuckDBPyConnection:
    """The warehouse opened for writing, waiting up to `wait_seconds` (default WRITER_WAIT_SECONDS) while
    another process has it open (WarehouseBusy after that)."""
    wait_seconds = WRITER_WAIT_SECONDS if wait_seconds is None else wait_seconds
    deadline = time.monotonic() + wait_seconds
    pause = 0.1
    while True:
        try:
            return connect(path)
        except WarehouseBusy:
            if time.monotonic() + pause > deadline:
                raise WarehouseBusy(f"the warehouse {path} is open in another process (a run writing it, or a "
                                    f"query, report or status reading it), still after {wait_seconds:g} s; "
                                    "try again when it is closed") from None
            time.sleep(pause)
            pause = min(pause * 2, 2.0)


# How DuckDB says a write did not reach the disk: an IOException; when the commit's WAL write fails (a disk that
# fills during a load), a TransactionException "Failed to commit: Could not write file"; when the checkpoint
# after it fails, a FatalException that invalidates the database (crash QA: each was a traceback). Other
# transaction or fatal errors are bugs, told as such (review).
_WRITE_FAILED = re.compile(r"could not write|no space left|failed to commit|failed to create checkpoint|disk quota",
                           re.IGNORECASE)


def is_write_failure(exc: BaseException) -> bool:
    """Whether a DuckDB error says a write did not reach the disk (see _WRITE_FAILED), or that the file is damaged."""
    if isinstance(exc, duckdb.IOException) or is_damage(exc):
        return True
    return isinstance(exc, duckdb.TransactionException | duckdb.FatalException) and bool(_WRITE_FAILED.search(str(exc)))


# How DuckDB says a block it read is not what was written (bits flipped on the disk, a copy taken mid-write): a
# plain duckdb.Error, which went up as two Prefect tracebacks and stopped every run (diagnosis QA).
# DuckDB's own words, not any "checksum" (a value quoted in a conversion error said the warehouse was damaged: review).
_DAMAGED = re.compile(r"^(IO Error: )?Corrupt database file: computed checksum \d+ does not match")


def is_damage(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.Error) and bool(_DAMAGED.match(str(exc)))


@contextmanager
def open_writer(path: str | Path, wait_seconds: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse opened for writing (waiting for readers, see connect_writer) with every migration
    applied and its hashes this DuckDB's, closed afterwards."""
    conn = connect_writer(path, wait_seconds)
    failed = True
    try:
        migrate(conn)
        yield conn
        failed = False
    except duckdb.Error as exc:
        if not is_write_failure(exc):
            raise
        # A full disk or a damaged file: the user's to fix, and the same on every retry. The write's
        # transaction is rolled back; the message says where and why, instead of a traceback.
        raise (WarehouseDamaged if is_damage(exc) else WarehouseError)(unusable(path, exc)) from None
    finally:
        try:
            conn.close()
        except duckdb.Error as exc:
            if not failed:  # else the step's own error is the one to report
                if is_write_failure(exc):
                    raise WarehouseError(unusable(path, exc)) from None
                raise


def unusable(path: str | Path, exc: BaseException) -> str:
    """One line for a warehouse file that cannot be read or written."""
    if is_damage(exc):
        return (f"the warehouse {path} is damaged ({first_line(exc)}): restore it from a backup, or rebuild it from "
                "the landing zone (see Backups in the README); nothing of the step that failed was written")
    return (f"the warehouse {path} cannot be read or written ({first_line(exc)}); is the disk full, or the file "
            "damaged? Nothing of the step that failed was written")


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped with the package, in order."""
    found = []
    for entry in resources.files("warehouse.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found)


def migrate(conn: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the migrations not yet recorded in schema_migrations, then rehash the stored rows if they
    were hashed with other formulas than warehouse/sql/hashing/macros.sql's (so no load mixes the
    two); returns the versions applied."""
    conn.execute("""create table if not exists schema_migrations (
        version integer not null, name varchar not null, applied_at timestamp not null default now())""")
    done = {row[0] for row in conn.execute("select version from schema_migrations").fetchall()}
    shipped = migrations()
    newer = sorted(done - {version for version, _, _ in shipped})
    if newer:
        # Writing with older code would mix its rules into a warehouse a newer version already changed
        # (ids, hashes), and the newer version would not know to repair it.
        raise WarehouseError(f"this warehouse was written by a newer version of film-reviews (it has migration "
                             f"{newer[-1]:03d}, this version knows up to {shipped[-1][0]:03d}); upgrade before "
                             "writing to it")
    applied = []
    for version, name, sql in shipped:
        if version in done:
            continue
        conn.execute("begin transaction")
        try:
            conn.execute(sql)
            conn.execute("insert into schema_migrations (version, name) values (?, ?)", [version, name])
            conn.execute("commit")
        except duckdb.Error as exc:
            rollback(conn)
            raise WarehouseError(f"migration {version:03d}_{name} failed and was rolled back, the warehouse is "
                                 f"as it was: {first_line(exc)}") from exc
        applied.append(version)
    # Imported here: warehouse.hashing reads its SQL through sql_file below.
    from warehouse.hashing import ensure_hash_scheme

    ensure_hash_scheme(conn)
    return applied


def first_line(exc: BaseException) -> str:
    """An error's message on one line, or its type: DuckDB's first paragraph (the error, and a hint such as
    'Did you mean "film_scores"?'), without the query excerpt it prints after a blank line."""
    text = str(exc).strip()
    return " ".join(text.split("\n\n", 1)[0].split()) if text else type(exc).__name__


def interrupted(exc: BaseException) -> bool:
    """Whether a query failed because it was stopped (Ctrl-C, SIGTERM): DuckDB reports that as
    InterruptException, as RuntimeError("Query interrupted") when the interrupt came through Python, or, when
    it reached Python code DuckDB was calling (reading a registered Arrow table), as the error of that step
    ending "failed: KeyboardInterrupt: "."""
    return isinstance(exc, duckdb.InterruptException) or (
        isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower()) or (
        isinstance(exc, duckdb.Error) and "failed: KeyboardInterrupt" in str(exc))


def rollback(conn: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction, if DuckDB still has one: a failed commit (a full disk) has
    ended it already, and a second error would hide the first."""
    try:
        conn.execute("rollback")
    except duckdb.Error:
        pass


def sql_file(relative: str) -> str:
    """The text of a packaged SQL file, e.g. 'sql/marts/film_scores.sql'."""
    return resources.files("warehouse").joinpath(relative).read_text(encoding="utf-8")
