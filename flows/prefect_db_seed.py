"""A new Prefect home starts from a copy of an empty, migrated Prefect database.

Prefect's temporary server creates and migrates a new home's SQLite database when it starts: ~6 of the ~19 CPU-s a
200-review run took in a new data folder (2026-11-29), paid again by every new data folder, and by every test of a
command in a folder of its own. The first start that migrates a new home leaves a snapshot of the database in the
user's cache, named for Prefect's version (which ships its migrations); a later new home starts from a copy and its
server finds nothing to migrate. Only a speed-up: a cache that cannot be read or written is left alone, and a snapshot
SQLite does not accept is deleted, never copied.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from contextlib import closing, suppress
from pathlib import Path

CACHE_ENV = "REVIEWS_PREFECT_DB_CACHE"  # a folder; "off" copies and keeps nothing


def _database(home: Path) -> Path | None:
    """The home's SQLite database, when Prefect uses the default one there (not a database URL of one's own)."""
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

    path = home / "prefect.db"
    return path if PREFECT_API_DATABASE_CONNECTION_URL.value() == f"sqlite+aiosqlite:///{path}" else None


def template_path() -> Path | None:
    """Where the snapshot for this Prefect version is kept; None when switched off."""
    import prefect
    from platformdirs import user_cache_path

    folder = os.environ.get(CACHE_ENV) or str(user_cache_path("reviews") / "prefect-db")
    if folder == "off":
        return None
    return Path(folder) / f"prefect-{prefect.__version__}.db"


def _usable(template: Path) -> bool:
    # A torn or foreign file would fail the server's start, which then names the home as half-migrated.
    try:
        with closing(sqlite3.connect(f"file:{template}?mode=ro", uri=True)) as db:
            return (db.execute("pragma quick_check").fetchone() == ("ok",)
                    and db.execute("select count(*) from alembic_version").fetchone()[0] == 1)
    except sqlite3.Error:
        return False


def _copy(source: Path, target: Path, *, snapshot: bool) -> None:
    """A consistent copy of a SQLite database (a live server may be writing `source`), put in place whole. A
    `snapshot` replaces the one there; a home's copy never does: another command's server may have it open."""
    name = str(target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    # Created as SQLite creates a database, so the umask decides (mkstemp's 0600 locked out a data folder's group).
    os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as origin, \
                closing(sqlite3.connect(name)) as copy:
            origin.backup(copy)
            copy.execute("pragma journal_mode = delete")  # one file, readable read-only (Prefect sets WAL again)
            # Another command's first run, started with this one, may have recorded a run already: no snapshot.
            if snapshot and copy.execute("select (select count(*) from flow_run) + (select count(*) from task_run)"
                                        ).fetchone()[0]:
                return
        if snapshot:
            os.replace(name, target)
        else:
            os.link(name, target)  # FileExistsError when another start was first
    finally:
        with suppress(OSError):
            os.unlink(name)


def seed_home(home: Path) -> bool:
    """Copy the cached snapshot into a home that has no database yet. True when the home had none and no snapshot
    was copied: its server will migrate a new one, which `keep_snapshot` can then keep."""
    database = _database(home)
    # A journal left beside a deleted database would be read into the copy.
    if database is None or any(Path(f"{database}{end}").exists() for end in ("", "-wal", "-shm", "-journal")):
        return False
    template = template_path()
    if template is None:
        return False
    if template.exists():
        if _usable(template):
            with suppress(OSError, sqlite3.Error):
                _copy(template, database, snapshot=False)
                return False
        else:
            with suppress(OSError):
                template.unlink()
    return True


def keep_snapshot(home: Path) -> None:
    """Keep the home's newly migrated database, before any run is recorded in it, as the snapshot."""
    database, template = _database(home), template_path()
    if database is None or template is None or not database.exists():
        return
    with suppress(OSError, sqlite3.Error):
        template.parent.mkdir(parents=True, exist_ok=True)
        _copy(database, template, snapshot=True)
