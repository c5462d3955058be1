"""`reviews status` and `reviews sources` while another process writes the warehouse: what the warehouse knows is
unknown (null), the landing zone and the config are reported, and the exit code is 0 (output QA: a monitoring
script polling `status --json` got exit 2 and no JSON exactly then)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from crawlers.landing import run_paths
from flows.cli import app
from warehouse.db import connect, migrate

HOLD = """
import sys, time
from pathlib import Path
from warehouse.db import connect
conn = connect(Path(sys.argv[1]) / "reviews.duckdb")
Path(sys.argv[1], "holding").touch()
time.sleep(60)
"""


def _held(tmp_path: Path) -> subprocess.Popen[bytes]:
    writer = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)])
    deadline = time.monotonic() + 60
    while not (tmp_path / "holding").exists():
        assert writer.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    return writer


def test_status_while_a_run_writes_the_warehouse_says_busy_and_exits_0(tmp_path: Path) -> None:
    conn = connect(tmp_path / "reviews.duckdb")
    migrate(conn)
    conn.close()
    pending = run_paths(tmp_path, "demo", "20261126T100000Z")["items"]
    pending.parent.mkdir(parents=True)
    pending.write_text("{}\n", encoding="utf-8")
    writer = _held(tmp_path)
    try:
        result = CliRunner().invoke(app, ["status", "--json", "--data-dir", str(tmp_path)])
        text = CliRunner().invoke(app, ["status", "--data-dir", str(tmp_path)])
    finally:
        writer.kill()
        writer.wait()
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["busy"].startswith(f"the warehouse {tmp_path / 'reviews.duckdb'} is being written")
    assert (report["tables"], report["last_runs"], report["pending_batches"]) == (None, None, None)
    assert report["waiting_batches"] == [] and report["killed_imports"] == []
    assert text.exit_code == 0 and "busy: the warehouse" in text.stdout
    # Once it is done, the runs and rows are back.
    assert json.loads(CliRunner().invoke(app, ["status", "--json", "--data-dir", str(tmp_path)]).stdout)["busy"] is None


def test_sources_while_a_run_writes_the_warehouse_lists_them_with_last_runs_unknown(tmp_path: Path) -> None:
    conn = connect(tmp_path / "reviews.duckdb")
    migrate(conn)
    conn.close()
    config = tmp_path / "reviews.toml"
    config.write_text('[[sources]]\nname = "site"\nspider = "schema_org"\nurls = ["http://127.0.0.1:9/"]\n',
                      encoding="utf-8")
    args = ["--config", str(config), "--data-dir", str(tmp_path)]
    writer = _held(tmp_path)
    try:
        result = CliRunner().invoke(app, ["sources", "--json", *args])
        text = CliRunner().invoke(app, ["sources", *args])
    finally:
        writer.kill()
        writer.wait()
    assert result.exit_code == 0, result.output
    (source,) = json.loads(result.stdout)
    assert (source["name"], source["last_run"]) == ("site", None)
    assert result.stderr.startswith("note: last runs unknown: the warehouse")
    assert text.exit_code == 0 and "unknown" in text.stdout and "never" not in text.stdout
