"""`reviews report` rebuilds stale marts in turn with runs, under the data folder's writer lock (the README's
backup recipe copies the warehouse under that lock), and takes no lock when the marts are fresh."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
from filelock import FileLock

from flows.writer import WRITER_LOCK
from warehouse.marts import build_marts

WEEK = "2026-W45"


def start_report(data: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "flows.cli", "report", "--week", WEEK, "--out", str(data / "out"),
                             "--data-dir", str(data)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def first_stderr_line(report: subprocess.Popen[str], seconds: float = 120) -> str:
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(report.stderr.readline()), daemon=True)
    reader.start()
    reader.join(seconds)
    return line[0] if line else ""


def test_a_report_that_must_rebuild_stale_marts_waits_for_the_writer_lock(
        conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    conn.close()  # migrated, never built: the marts are stale
    lock = FileLock(tmp_path / WRITER_LOCK)
    lock.acquire()
    try:
        report = start_report(tmp_path)
        assert "another run is writing the warehouse" in first_stderr_line(report)
        time.sleep(1)
        assert report.poll() is None and not (tmp_path / "out").exists()
    finally:
        lock.release()
    out, err = report.communicate(timeout=120)
    assert report.returncode == 0, err
    assert (tmp_path / "out" / f"{WEEK}.html").exists()


def test_a_report_on_fresh_marts_does_not_wait_for_a_writer(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    build_marts(conn)
    conn.close()
    lock = FileLock(tmp_path / WRITER_LOCK)
    lock.acquire()
    try:
        report = start_report(tmp_path)
        out, err = report.communicate(timeout=120)
    finally:
        lock.release()
    assert report.returncode == 0, err
    assert "another run" not in err
    assert (tmp_path / "out" / f"{WEEK}.html").exists()
