"""`reviews compact`: the warehouse rewritten to the size of what it holds, every row kept (flows/compact.py)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.writer import WRITER_LOCK, writer_slot
from warehouse.db import connect, migrate


def bloated_warehouse(data: Path) -> dict[str, int]:
    """A migrated warehouse whose reviews were all updated twice (as weekly re-crawls do): freed blocks inside."""
    conn = connect(data / "reviews.duckdb")
    migrate(conn)
    conn.execute("""insert into reviews (review_id, film_id, critic_id, source, source_review_id, urls, audience,
        body, content_hash, text_hash, first_seen, last_seen, run_id)
        select 'r' || i, 'f1', 'c1', 's', 'k' || i, ['u'], 'critic', repeat('A tender film. ', 20) || i, i, i, now(),
            now(), 'run' from range(60000) as t(i)""")
    conn.execute("checkpoint")
    for edit in ("Slow. ", "Moving. "):
        conn.execute(f"update reviews set body = '{edit}' || body")
        conn.execute("checkpoint")
    tables = conn.execute("select table_name from duckdb_tables() where schema_name = 'main'").fetchall()
    counts = {table: conn.execute(f"select count(*) from {table}").fetchone()[0] for (table,) in tables}
    conn.close()
    return counts


def test_compact_shrinks_a_warehouse_that_updates_bloated_and_keeps_every_row(tmp_path: Path) -> None:
    data = tmp_path / "data"
    counts = bloated_warehouse(data)
    before = (data / "reviews.duckdb").stat().st_size
    result = CliRunner().invoke(app, ["compact", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    after = (data / "reviews.duckdb").stat().st_size
    assert after < before * 0.8, (before, after)
    assert f"compacted {data / 'reviews.duckdb'}" in result.stdout
    with connect(data / "reviews.duckdb", read_only=True) as conn:
        assert {table: conn.execute(f"select count(*) from {table}").fetchone()[0] for table in counts} == counts
        assert conn.execute("select body from reviews where review_id = 'r7'").fetchone()[0].startswith("Moving. Slow.")
    assert not list(data.glob("reviews.compact.duckdb*"))
    # The compacted file is still the project's warehouse: migrations recorded, writable.
    conn = connect(data / "reviews.duckdb")
    assert migrate(conn) == []
    conn.close()


@contextmanager
def compact_waiting(data: Path) -> Iterator[subprocess.Popen[str]]:
    """`reviews compact` started while the test holds the writer slot, once it has said it waits; the slot is
    released when the block ends."""
    bloated_warehouse(data)
    with writer_slot(data):
        child = subprocess.Popen([sys.executable, "-m", "flows.cli", "compact", "--data-dir", str(data)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # Its first line, however long a busy machine takes to get there (a 3 s wait could end before the
            # command reached the slot, which was free by then: flakiness QA).
            first: list[str] = []
            reader = threading.Thread(target=lambda: first.append(child.stderr.readline()), daemon=True)
            reader.start()
            reader.join(120)
            assert first and "another run is writing the warehouse" in first[0], first
            yield child
        except BaseException:
            child.kill()
            raise


def test_compact_waits_for_a_run_writing_the_warehouse(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with compact_waiting(data) as child:
        time.sleep(0.5)
        assert child.poll() is None, "compact did not wait for the writer slot"
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert "compacted" in out
    assert (data / WRITER_LOCK).exists()


def test_compact_without_a_warehouse_is_one_error_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["compact", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: no warehouse at {tmp_path / 'reviews.duckdb'}; run `reviews run` or " \
                                    "`reviews demo` first"


def test_a_failed_copy_leaves_the_warehouse_as_it_was(tmp_path: Path, monkeypatch) -> None:
    import flows.compact as compact_module

    data = tmp_path / "data"
    counts = bloated_warehouse(data)
    before = (data / "reviews.duckdb").read_bytes()

    def full_disk(path: Path, copy: Path) -> None:
        copy.write_bytes(b"partial")
        copy.with_name(copy.name + ".wal").write_bytes(b"")  # as DuckDB leaves it when its write fails
        raise duckdb.IOException("Could not write file: No space left on device")

    monkeypatch.setattr(compact_module, "_copy", full_disk)
    result = CliRunner().invoke(app, ["compact", "--data-dir", str(data)])
    assert result.exit_code == 2
    assert "which is as it was: Could not write file: No space left on device" in result.stderr
    assert (data / "reviews.duckdb").read_bytes() == before and not (data / "reviews.compact.duckdb").exists()
    assert not (data / "reviews.compact.duckdb.wal").exists()
    assert len(counts) > 5


def test_a_compact_stopped_with_sigterm_while_waiting_says_so_and_exits_130(tmp_path: Path) -> None:
    # systemd stopping a compact queued behind a run: it died silently with 143 (concurrency QA).
    with compact_waiting(tmp_path / "data") as child:
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    # Only that: a stop sent the moment the waiting line was written had rich write it again (seen in CI).
    assert err.strip() == "stopped: the warehouse is as it was", err


def test_a_compact_stopped_while_copying_leaves_no_half_written_copy(tmp_path: Path, monkeypatch) -> None:
    import flows.compact

    data = tmp_path / "data"
    bloated_warehouse(data)
    before = (data / "reviews.duckdb").read_bytes()

    def stopped_midway(path: Path, copy: Path) -> None:
        copy.write_bytes(b"half")
        copy.with_name(copy.name + ".wal").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(flows.compact, "_copy", stopped_midway)
    with pytest.raises(KeyboardInterrupt):
        flows.compact.compact(data)
    assert not list(data.glob("reviews.compact.duckdb*"))
    assert (data / "reviews.duckdb").read_bytes() == before


def test_a_stop_duckdb_turned_into_an_interrupted_query_is_a_stop(tmp_path: Path, monkeypatch) -> None:
    # DuckDB catches the KeyboardInterrupt of a SIGTERM mid-copy and raises "Query interrupted": a traceback and exit
    # 1 (verification QA).
    import flows.compact
    from flows.crawl import signalled

    data = tmp_path / "data"
    bloated_warehouse(data)

    def interrupted(path: Path, copy: Path) -> None:
        copy.write_bytes(b"half")
        signalled.set()
        raise RuntimeError("Query interrupted")

    monkeypatch.setattr(flows.compact, "_copy", interrupted)
    try:
        with pytest.raises(KeyboardInterrupt):
            flows.compact.compact(data)
    finally:
        signalled.clear()
    assert not list(data.glob("reviews.compact.duckdb*"))
