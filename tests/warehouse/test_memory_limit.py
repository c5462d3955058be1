"""REVIEWS_DUCKDB_MEMORY_LIMIT: checked when the warehouse opens, one clear error instead of DuckDB's."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from warehouse import db


@pytest.mark.parametrize("value", ["", "lots", "1", "0", "10MB", "-1GB", "80%", "1e3MB"])
def test_an_unusable_memory_limit_is_a_warehouse_error_naming_the_variable_and_a_valid_value(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str) -> None:
    monkeypatch.setattr(db, "MEMORY_LIMIT", value)
    with pytest.raises(db.WarehouseError, match=r"REVIEWS_DUCKDB_MEMORY_LIMIT=.*at least 100MB, e\.g\. "
                                                r"REVIEWS_DUCKDB_MEMORY_LIMIT=2GB"):
        db.connect(tmp_path / "reviews.duckdb")
    assert not (tmp_path / "reviews.duckdb").exists()


@pytest.mark.parametrize(("value", "setting"), [("100MB", "95.3 MiB"), ("1.5GB", "1.3 GiB"), ("512MiB", "512.0 MiB"),
                                                (" 2 gb ", "1.8 GiB")])
def test_a_size_with_a_unit_of_at_least_100mb_is_the_duckdb_memory_limit(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str, setting: str) -> None:
    monkeypatch.setattr(db, "MEMORY_LIMIT", value)
    with db.connect(tmp_path / "reviews.duckdb") as conn:
        assert conn.execute("select current_setting('memory_limit')").fetchone()[0] == setting


def test_an_unusable_memory_limit_is_one_error_line_and_exit_2(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    db.connect(tmp_path / "reviews.duckdb").close()
    monkeypatch.setattr(db, "MEMORY_LIMIT", "lots")
    result = CliRunner().invoke(app, ["sql", "select 1", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: REVIEWS_DUCKDB_MEMORY_LIMIT='lots'")
    assert len(result.stderr.strip().splitlines()) == 1
