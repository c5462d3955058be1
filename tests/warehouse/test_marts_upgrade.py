"""Marts built by another version's SQL (an upgrade that changed a model): a report rebuilds them before
reading, and a query naming what they lack says why."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.report import write_report
from tests.warehouse.conftest import Warehouse
from warehouse.marts import marts_current, refresh_stale_marts


def built_by_an_older_version(wh: Warehouse) -> Path:
    """A warehouse whose marts an earlier version built: another fingerprint, and a column fewer. Returns its
    path (in tmp_path, the data folder), closed."""
    wh.review("her", "ann", 80, published_on="2026-11-18")
    wh.review("her", "bob", 60, published_on="2026-11-18")
    wh.build()
    assert marts_current(wh.conn)
    wh.conn.execute("update mart_builds set fingerprint = 'earlier'")
    wh.conn.execute("alter table weekly_critic_activity drop column anonymous")
    wh.conn.execute("alter table critic_stats drop column anonymous")
    assert not marts_current(wh.conn)
    database = Path(wh.conn.execute("select path from duckdb_databases() where database_name = current_database()")
                    .fetchone()[0])
    wh.conn.close()
    return database


def test_a_report_after_an_upgrade_rebuilds_the_marts_it_reads(wh: Warehouse, tmp_path: Path) -> None:
    # It failed with DuckDB's "Binder Error: column anonymous not found" until the next `reviews run`.
    database = built_by_an_older_version(wh)
    paths = write_report(database, "2026-W47", tmp_path / "reports")
    assert "Ann" in paths.markdown.read_text()
    assert refresh_stale_marts(database) is False  # current now: not built again


def test_a_query_naming_a_column_the_old_marts_lack_says_they_are_from_another_version(wh: Warehouse) -> None:
    database = built_by_an_older_version(wh)
    done = CliRunner().invoke(app, ["sql", "select anonymous from critic_stats", "--data-dir", str(database.parent)])
    assert done.exit_code == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert " ".join(done.stderr.split()).endswith(
        "the marts are out of date (built by another version of reviews, or a run stopped before rebuilding them) "
        "and may lack what the query names: the next `reviews run` or `reviews report` rebuilds them")


@pytest.mark.parametrize("query", ["select nonsense from critic_stats", "select * from no_such_table"])
def test_a_plain_mistake_on_current_marts_gets_no_version_hint(wh: Warehouse, tmp_path: Path, query: str) -> None:
    wh.review("her", "ann", 80)
    wh.build()
    wh.conn.close()
    done = CliRunner().invoke(app, ["sql", query, "--data-dir", str(tmp_path)])
    assert done.exit_code == 2
    assert done.stderr.startswith("error: SQL error:") and "another version" not in done.stderr


def test_a_load_whose_marts_were_never_rebuilt_leaves_them_stale_until_a_report(tmp_path: Path) -> None:
    # A run killed while it rebuilt the marts (OOM, reboot) left marts that silently disagreed with the reviews.
    from tests.flows.test_normalize_batch import item
    from tests.warehouse.test_load_landing import _land, _load
    from warehouse.db import open_writer
    from warehouse.marts import build_marts

    database = tmp_path / "reviews.duckdb"
    with open_writer(database) as conn:
        build_marts(conn)
        assert marts_current(conn)
        _load(conn, _land(tmp_path / "run-1.jsonl", item(published_raw="2026-11-18")), "run-1")
        assert not marts_current(conn)
        assert conn.execute("select count(*) from film_scores").fetchone() == (0,)
    status = CliRunner().invoke(app, ["status", "--data-dir", str(tmp_path)])
    assert "marts: out of date" in status.stdout
    query = CliRunner().invoke(app, ["sql", "select count(*) from film_scores", "--data-dir", str(tmp_path)])
    assert query.exit_code == 0 and query.stderr.startswith("note: the marts are out of date")
    plain = CliRunner().invoke(app, ["sql", "select count(*) from reviews", "--data-dir", str(tmp_path)])
    assert plain.exit_code == 0 and plain.stderr == ""
    write_report(database, "2026-W47", tmp_path / "reports")
    with open_writer(database) as conn:
        assert marts_current(conn)
        assert conn.execute("select sum(reviews) from film_scores").fetchone() == (1,)
    assert "marts: out of date" not in CliRunner().invoke(app, ["status", "--data-dir", str(tmp_path)]).stdout
