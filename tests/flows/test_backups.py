"""The README's backup recipe: `flock <data>/.writer.lock` waits for the one warehouse writer, so the copy it
takes is whole (flows/writer.py locks the same file with flock(2), through filelock)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from flows.writer import WRITER_LOCK, writer_slot
from warehouse.db import connect, migrate


def test_flock_on_the_writer_lock_waits_while_a_run_writes(tmp_path: Path) -> None:
    def try_lock() -> int:
        return subprocess.run(["flock", "--nonblock", str(tmp_path / WRITER_LOCK), "true"], check=False).returncode

    with writer_slot(tmp_path):
        assert try_lock() == 1  # taken: a backup started now waits for the run's load
    assert try_lock() == 0


def test_the_readmes_backup_command_copies_a_warehouse_that_opens(tmp_path: Path) -> None:
    data, backups = tmp_path / "data", tmp_path / "backups"
    backups.mkdir()
    conn = connect(data / "reviews.duckdb")
    migrate(conn)
    conn.execute("insert into films values ('f1', 'tt1798709', null, 'Her', 2013, 'her', now())")
    conn.close()
    subprocess.run(["flock", str(data / WRITER_LOCK), "sh", "-c", f"cp {data}/reviews.duckdb* {backups}/"],
                   check=True)
    with connect(backups / "reviews.duckdb", read_only=True) as copy:
        assert copy.execute("select title, year from films").fetchall() == [("Her", 2013)]
