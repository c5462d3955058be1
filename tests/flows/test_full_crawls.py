"""An incremental source is crawled in full again when its last full crawl is `full_every_days` old: pages of
known reviews are never revisited otherwise, so an edit there went unseen for good."""

from __future__ import annotations

from pathlib import Path

from flows.incremental import full_crawl_due
from flows.pipeline import SourceSpec, pipeline
from tests.flows.test_revalidation import StaticSite, review_page, site  # noqa: F401 (the fixture)
from warehouse.db import connect, open_writer, warehouse_path


def run(static: StaticSite, root: Path, every: int) -> list[tuple[str, int]]:
    start = len(static.log)
    pipeline([SourceSpec("schema_org", [static.url], "static", incremental=True, full_every_days=every)], str(root))
    return static.log[start:]


def runs(root: Path) -> list[tuple[bool | None, str]]:
    conn = connect(warehouse_path(root), read_only=True)
    try:
        return conn.execute("select full_crawl, finish_reason from crawl_runs order by started").fetchall()
    finally:
        conn.close()


def body_of(root: Path, review: str) -> str:
    conn = connect(warehouse_path(root), read_only=True)
    try:
        return conn.execute("select body from reviews where source_review_id like ?", [f"%/{review}"]).fetchone()[0]
    finally:
        conn.close()


def test_an_edit_on_a_page_of_known_reviews_is_read_by_the_next_full_crawl(site, tmp_path):  # noqa: F811
    root = tmp_path / "data"
    run(site, root, 28)
    edited = review_page("Film A", ["a4", "a5", "a6"]).replace("Review a4 of Film A", "Review a4, rewritten,")
    site.write("film-a/page2.html", edited, 1)
    second = run(site, root, 28)  # page 1's reviews are all known: page 2 is not asked for
    assert not any(path == "/film-a/page2.html" for path, _ in second)
    assert body_of(root, "a4").startswith("Review a4 of Film A")
    with open_writer(warehouse_path(root)) as conn:
        conn.execute("update crawl_runs set started = started - interval 29 days, finished = finished - interval "
                     "29 days where full_crawl")
    third = run(site, root, 28)
    assert ("/film-a/page2.html", 200) in third
    assert body_of(root, "a4").startswith("Review a4, rewritten,")
    assert [full for full, _ in runs(root)] == [True, False, True]


def test_full_every_days_0_never_crawls_in_full_by_itself(site, tmp_path):  # noqa: F811
    root = tmp_path / "data"
    run(site, root, 0)
    with open_writer(warehouse_path(root)) as conn:
        conn.execute("update crawl_runs set started = started - interval 400 days")
    second = run(site, root, 0)
    assert not any(path == "/film-a/page2.html" for path, _ in second)
    assert [full for full, _ in runs(root)] == [True, False]


def test_a_full_crawl_is_due_after_the_days_since_the_last_healthy_complete_one(tmp_path):
    from warehouse.db import migrate

    conn = connect(tmp_path / "reviews.duckdb")
    migrate(conn)
    assert not full_crawl_due(conn, "s", 28)  # never crawled: its first crawl is full anyway
    runs = """insert into crawl_runs by name
        select run_id, 's' as source, 'schema_org' as spider, now()::timestamp - to_days(days) as started,
            reason as finish_reason, healthy, full_crawl, pages, 0 as scraped, 0 as loaded, 0 as updated,
            0 as duplicates, 0 as rejected, now()::timestamp as loaded_at
        from (values {}) as runs(run_id, days, reason, healthy, full_crawl, pages)"""
    # 1: stored before full_crawl was (NULL: counts); 2: incremental; 3: full but fetched nothing (a site
    # down); 4: full but stopped.
    conn.execute(runs.format("('1', 40, 'finished', true, null, 9), ('2', 1, 'finished', true, false, 9), "
                             "('3', 2, 'finished', false, true, 0), ('4', 3, 'shutdown', true, true, 9)"))
    assert full_crawl_due(conn, "s", 28)  # 40 days since the last that counts
    assert not full_crawl_due(conn, "s", 45)
    assert not full_crawl_due(conn, "s", 0)
    # A full crawl judged unhealthy counts: it said what broke, and the next runs are not all full ones.
    conn.execute(runs.format("('5', 10, 'finished', false, true, 9)"))
    assert not full_crawl_due(conn, "s", 28)


def test_a_configured_source_crawled_from_url_keeps_its_period_of_full_crawls(tmp_path, monkeypatch):
    # A `--url` run used 28 days whatever the source's config said.
    from typer.testing import CliRunner

    import flows.cli

    config = tmp_path / "reviews.toml"
    config.write_text('[[sources]]\nname = "blog"\nspider = "schema_org"\nurls = ["http://127.0.0.1:9/"]\n'
                      "full_every_days = 7\n", encoding="utf-8")
    specs: list[SourceSpec] = []
    monkeypatch.setattr(flows.cli, "run_pipeline", lambda cfg, root, sources, *args, **kwargs: specs.extend(sources))
    for source in ("blog", "other"):
        result = CliRunner().invoke(flows.cli.app, ["run", "schema_org", "--url", "http://127.0.0.1:9/", "--source",
                                                    source, "--config", str(config), "--data-dir", str(tmp_path)])
        assert result.exit_code == 0, result.output
    assert [(spec.source, spec.full_every_days) for spec in specs] == [("blog", 7), ("other", 28)]


def test_a_full_crawl_is_due_on_the_day_though_the_last_one_started_seconds_after_its_run(tmp_path):
    # Time-zone QA: a weekly cron found the last full crawl 27 days 23:59:46 old (its recorded start is the crawl
    # child's, seconds after the run began) and put the full crawl off a whole week.
    from datetime import UTC, datetime, timedelta

    from warehouse.db import migrate

    conn = connect(tmp_path / "reviews.duckdb")
    migrate(conn)
    now = datetime.now(UTC).replace(tzinfo=None)
    for run_id, age in (("weekly", timedelta(days=28, seconds=-14)), ("early", timedelta(days=28, hours=-3))):
        conn.execute("delete from crawl_runs")
        conn.execute("insert into crawl_runs by name select ? as run_id, 's' as source, 'schema_org' as spider, "
                     "?::timestamp as started, 'finished' as finish_reason, true as healthy, true as full_crawl, "
                     "9 as pages, 0 as scraped, 0 as loaded, 0 as updated, 0 as duplicates, 0 as rejected, "
                     "now()::timestamp as loaded_at", [run_id, now - age])
        assert full_crawl_due(conn, "s", 28) == (run_id == "weekly")


def test_a_crawl_recorded_in_the_future_is_no_yardstick_and_is_warned_of(tmp_path):
    # Ops QA: one run with the clock a year ahead made every later run skip pages modified since the real last
    # crawl, and never due a full crawl, for a year, with exit 0 and no word.
    import json

    from flows.incremental import clock_behind, write_state
    from warehouse.db import migrate

    conn = connect(tmp_path / "reviews.duckdb")
    migrate(conn)
    runs = """insert into crawl_runs by name
        select run_id, 's' as source, 'schema_org' as spider, now()::timestamp - to_days(days) as started,
            'finished' as finish_reason, true as healthy, true as full_crawl, 9 as pages, 0 as scraped, 0 as loaded,
            0 as updated, 0 as duplicates, 0 as rejected, now()::timestamp as loaded_at
        from (values {}) as runs(run_id, days)"""
    conn.execute(runs.format("('real', 8)"))
    assert clock_behind(conn, "s") is None and not full_crawl_due(conn, "s", 28)
    conn.execute(runs.format("('ahead', -365)"))
    since = json.loads(write_state(conn, tmp_path, "s").read_text(encoding="utf-8"))["since"]
    real = conn.execute("select started from crawl_runs where run_id = 'real'").fetchone()[0]
    assert since == real.isoformat()
    assert not full_crawl_due(conn, "s", 28) and full_crawl_due(conn, "s", 7)  # judged by the real full crawl
    warning = clock_behind(conn, "s")
    assert warning is not None and warning.startswith("the clock reads ") and "before the start of s's last crawl" \
        in warning
