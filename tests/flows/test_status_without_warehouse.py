"""`reviews status` and `reviews sources` before any run has made a warehouse."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app


def test_status_without_a_warehouse_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent"
    for args in (["status"], ["status", "--json"]):
        result = CliRunner().invoke(app, [*args, "--data-dir", str(missing)])
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
        assert result.stderr.startswith(f"error: no warehouse at {missing / 'reviews.duckdb'}")
        assert len(result.stderr.strip().splitlines()) == 1
    assert not missing.exists()  # asking for the status creates nothing


def test_status_without_a_warehouse_counts_the_landing_batches_waiting(tmp_path: Path) -> None:
    folder = tmp_path / "raw" / "demo"
    folder.mkdir(parents=True)
    (folder / "20261126T100000123456Z.jsonl").write_text("{}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["status", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "(1 landing batches wait to be loaded)" in result.stderr


def test_sources_without_a_warehouse_lists_the_configured_sources_as_never_run(tmp_path: Path) -> None:
    config = tmp_path / "reviews.toml"
    config.write_text('[[sources]]\nname = "demo"\nspider = "schema_org"\nurls = ["http://127.0.0.1:9/"]\n')
    args = ["sources", "--config", str(config), "--data-dir", str(tmp_path / "nonexistent")]
    table = CliRunner().invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "demo" in table.stdout and "never" in table.stdout
    listed = CliRunner().invoke(app, [*args, "--json"])
    assert listed.exit_code == 0 and [(s["name"], s["last_run"]) for s in json.loads(listed.stdout)] == [("demo", None)]


def test_sources_without_a_config_names_the_example_file_the_package_ships(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # no reviews.toml here
    result = CliRunner().invoke(app, ["sources", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    named = result.stdout.split("copy ", 1)[1].split(" to reviews.toml")[0]
    # An installed wheel has no repository around it: the file named must be the packaged one, and exist.
    assert Path(named).is_file() and Path(named).parent.name == "flows"
    assert "[[sources]]" in Path(named).read_text(encoding="utf-8")


def test_status_and_report_on_a_warehouse_cut_short_are_one_error_line(tmp_path: Path) -> None:
    # Recovery QA: both ended in a Python traceback (IOException: Could not read enough bytes), where `run`, `sql`
    # and `compact` said so in one line; `status` is the first command of a recovery.
    from tests.flows.test_normalize_batch import item
    from tests.warehouse.test_load_landing import _land, _load
    from warehouse.db import open_writer
    from warehouse.marts import build_marts

    items = [item(source_review_id=f"r{n}", critic_name=f"Critic {n}", url=f"https://x/{n}") for n in range(200)]
    with open_writer(tmp_path / "reviews.duckdb") as conn:
        _load(conn, _land(tmp_path / "run-1.jsonl", *items), "run-1")
        build_marts(conn)
    whole = (tmp_path / "reviews.duckdb").read_bytes()
    (tmp_path / "reviews.duckdb").write_bytes(whole[:len(whole) * 3 // 10])
    for command in (["status"], ["report", "--week", "2026-W47", "--out", str(tmp_path / "out")]):
        result = CliRunner().invoke(app, [*command, "--data-dir", str(tmp_path)])
        assert result.exit_code == 2, (command, result.exception)
        assert result.stderr.startswith("error: the warehouse cannot be read: IO Error")
        assert "Traceback" not in result.output
