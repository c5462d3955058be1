"""A new data folder's Prefect home starts from a snapshot of an empty, migrated Prefect database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.warehouse import synthesize
from crawlers.landing import new_run_id
from flows.prefect_db_seed import CACHE_ENV, keep_snapshot, seed_home

REVIEWS = [sys.executable, "-m", "flows.cli"]


def first_run(root: Path, cache: str) -> subprocess.CompletedProcess[str]:
    """`reviews run` in a new data folder holding a small landed batch, with the snapshot cache `cache`."""
    folder = root / "raw" / "bench"
    folder.mkdir(parents=True)
    synthesize(folder / f"{new_run_id()}.jsonl", reviews=20)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    return subprocess.run([*REVIEWS, "run", "--data-dir", str(root), "--quiet"], env={**env, CACHE_ENV: cache},
                          capture_output=True, text=True, timeout=300)


def rows(database: Path, query: str) -> list[tuple]:
    with closing(sqlite3.connect(database)) as db:
        return db.execute(query).fetchall()


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The snapshot a first run in a new data folder leaves in an empty cache."""
    root, cache = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("cache")
    done = first_run(root / "data", str(cache))
    assert done.returncode == 0, done.stderr
    [kept] = cache.glob("prefect-*.db")
    return kept


def test_a_first_run_keeps_a_snapshot_of_the_migrated_database_without_its_runs(snapshot: Path) -> None:
    assert rows(snapshot, "select count(*) from alembic_version") == [(1,)]
    assert rows(snapshot, "select count(*) from block_type")[0][0] > 0
    assert rows(snapshot, "select count(*) from flow_run") == [(0,)]  # the run that made it is not in it


def test_the_next_new_data_folder_starts_from_the_snapshot_and_records_its_run(snapshot: Path,
                                                                               tmp_path: Path) -> None:
    started = datetime.now(UTC).replace(tzinfo=None)
    taken = snapshot.stat().st_mtime_ns
    done = first_run(tmp_path / "data", str(snapshot.parent))
    assert done.returncode == 0, done.stderr
    database = tmp_path / "data" / ".prefect" / "prefect.db"
    # Prefect's block types were written when the snapshot was taken, before this run: not migrated anew.
    [(earliest,)] = rows(database, "select min(created) from block_type")
    assert datetime.fromisoformat(str(earliest)).replace(tzinfo=None) < started
    assert rows(database, "select state_type from flow_run") == [("COMPLETED",)]
    assert snapshot.stat().st_mtime_ns == taken  # kept, not taken again


def test_a_snapshot_sqlite_does_not_accept_is_deleted_and_the_run_migrates_its_own(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    import prefect

    torn = cache / f"prefect-{prefect.__version__}.db"
    torn.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)  # cut short while written
    done = first_run(tmp_path / "data", str(cache))
    assert done.returncode == 0, done.stderr
    assert rows(tmp_path / "data" / ".prefect" / "prefect.db", "select count(*) from flow_run") == [(1,)]
    assert rows(torn, "select count(*) from flow_run") == [(0,)]  # the new snapshot, in its place


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A new Prefect home, the one Prefect's settings name (in this process)."""
    from prefect.settings import PREFECT_HOME, temporary_settings

    folder = tmp_path / "home"
    folder.mkdir()
    with temporary_settings(updates={PREFECT_HOME: str(folder)}):
        yield folder


def test_cache_off_keeps_and_copies_nothing(home: Path, monkeypatch: pytest.MonkeyPatch, snapshot: Path) -> None:
    monkeypatch.setenv(CACHE_ENV, "off")
    assert seed_home(home) is False
    assert not (home / "prefect.db").exists()


def test_a_database_url_of_ones_own_is_left_alone(home: Path, monkeypatch: pytest.MonkeyPatch,
                                                  snapshot: Path) -> None:
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL, temporary_settings

    monkeypatch.setenv(CACHE_ENV, str(snapshot.parent))
    with temporary_settings(updates={PREFECT_API_DATABASE_CONNECTION_URL: f"sqlite+aiosqlite:///{home}/other.db"}):
        assert seed_home(home) is False
    assert not list(home.iterdir())


@pytest.fixture
def seeded(home: Path, monkeypatch: pytest.MonkeyPatch, snapshot: Path) -> Path:
    """A new home, with the snapshot's cache as the cache."""
    monkeypatch.setenv(CACHE_ENV, str(snapshot.parent))
    return home


def test_a_home_with_a_database_is_never_overwritten(seeded: Path) -> None:
    home = seeded
    (home / "prefect.db").write_bytes(b"history")
    assert seed_home(home) is False
    assert (home / "prefect.db").read_bytes() == b"history"


def test_a_journal_left_beside_a_deleted_database_stops_the_copy(seeded: Path) -> None:
    home = seeded
    (home / "prefect.db-wal").write_bytes(b"old pages")  # SQLite would read them into the copy
    seed_home(home)
    assert not (home / "prefect.db").exists()


def test_the_copy_is_made_as_the_umask_says(seeded: Path) -> None:
    home = seeded
    previous = os.umask(0o002)  # a team's shared folder: mkstemp's 0600 would lock the group out
    try:
        assert seed_home(home) is False
    finally:
        os.umask(previous)
    assert (home / "prefect.db").stat().st_mode & 0o777 == 0o664
    assert rows(home / "prefect.db", "select count(*) from flow_run") == [(0,)]


def test_a_home_that_recorded_a_run_meanwhile_is_no_snapshot(home: Path, snapshot: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    with closing(sqlite3.connect(snapshot)) as origin, closing(sqlite3.connect(home / "prefect.db")) as copy:
        origin.backup(copy)
        columns = [row[1] for row in copy.execute("pragma table_info(flow_run)") if row[3] and row[4] is None]
        copy.execute(f"insert into flow_run ({', '.join(columns)}) values ({', '.join('?' * len(columns))})",
                     ["x"] * len(columns))  # another command's first run, started at the same moment
        copy.commit()
    keep_snapshot(home)
    assert not list((tmp_path / "cache").glob("*.db"))


def test_a_cache_that_cannot_be_written_only_keeps_no_snapshot(home: Path, snapshot: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    with closing(sqlite3.connect(snapshot)) as origin, closing(sqlite3.connect(home / "prefect.db")) as copy:
        origin.backup(copy)
    monkeypatch.setenv(CACHE_ENV, "/proc/no-such-cache")  # a service account's home that cannot be written
    keep_snapshot(home)  # no error: the snapshot is only a speed-up
    monkeypatch.setenv(CACHE_ENV, str(snapshot.parent))
    keep_snapshot(home)
    assert rows(snapshot, "select count(*) from flow_run") == [(0,)]
