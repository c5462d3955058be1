"""The Prefect pipeline on the demo site: the warehouse's numbers equal the published ground truth."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.pipeline import SourceSpec, pipeline
from tests.flows.truth import expected_by_film, query

SEED_START = "In all my times of being a film writer"


@pytest.fixture(scope="module")
def warehouse(small_demo, tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    sources = [SourceSpec("schema_org", [small_demo.url], "demo"),
               SourceSpec("feed", [small_demo.url + "feed.xml"], "demo-feed")]
    result = pipeline(sources, str(root))
    return root, result


def test_every_run_accounts_for_every_scraped_item(warehouse):
    root, result = warehouse
    assert {load["source"] for load in result.loads} == {"demo", "demo-feed"}
    for scraped, loaded, duplicates, rejected in query(
            root, "select scraped, loaded, duplicates, rejected from crawl_runs"):
        assert scraped == loaded + duplicates + rejected


def test_film_scores_match_the_ground_truth(warehouse, small_demo):
    root, _ = warehouse
    truth_film = {row["identifier"]: row["film_key"] for row in small_demo.truth}
    keys = query(root, "select r.film_id, k.source_review_id from reviews r join review_keys k using (review_id) "
                       "where k.source = 'demo'")
    film_keys = defaultdict(set)
    for film_id, source_review_id in keys:
        film_keys[film_id].add(truth_film[source_review_id])
    assert all(len(found) == 1 for found in film_keys.values()), "a warehouse film mixes two true films"
    expected = expected_by_film(small_demo.truth)
    actual = {film_keys[film_id].pop(): (reviews, mean_score)
              for film_id, reviews, mean_score in query(root, "select film_id, reviews, mean_score from film_scores")}
    assert set(actual) == set(expected)
    for film_key, (count, mean_score) in expected.items():
        assert actual[film_key][0] == count, film_key
        assert actual[film_key][1] == pytest.approx(mean_score, abs=0.01), film_key


def test_her_2013_is_one_film_and_her_of_another_year_is_another(warehouse):
    root, _ = warehouse
    films = query(root, "select year from films where title_key = 'her' order by year")
    assert [year for (year,) in films] == sorted({year for (year,) in films}) and len(films) == 2


def test_film_titles_are_the_true_titles_not_a_lower_cased_or_dated_variant(warehouse, small_demo):
    # Person pages name some films "beatriz's river" or "A Winter in Lisbon (1985)".
    root, _ = warehouse
    assert sorted(query(root, "select title, year from films")) == sorted(
        {(row["film_title"], row["film_year"]) for row in small_demo.truth})


def test_seed_review_is_one_unrated_user_review_of_her_with_an_inferred_score(warehouse):
    root, _ = warehouse
    rows = query(root, """
        select f.title, f.year, r.audience, r.rating_raw, r.score_source, r.score, r.is_positive
        from reviews r join films f using (film_id) where starts_with(r.body, ?)""", [SEED_START])
    assert len(rows) == 1
    title, year, audience, rating_raw, score_source, score, is_positive = rows[0]
    assert (title.lower().startswith("her"), year, audience, rating_raw) == (True, 2013, "user", None)
    assert score_source == "inferred" and score >= 60 and is_positive is None


def test_syndicated_review_is_one_row_with_both_urls(warehouse, small_demo):
    root, _ = warehouse
    pair = [row["identifier"] for row in small_demo.truth if row["syndication_group"]]
    rows = query(root, "select distinct review_id from review_keys where source = 'demo' "
                       "and list_contains(?, source_review_id)", [pair])
    assert len(pair) == 2 and len(rows) == 1
    (urls,) = query(root, "select urls from reviews where review_id = ?", [rows[0][0]])[0]
    assert len(urls) == 2


def test_hostile_text_is_stored_verbatim_as_text(warehouse):
    root, _ = warehouse
    assert query(root, "select count(*) from reviews where contains(body, ?)", ["'); DROP TABLE reviews; --"])[0][0]
    assert query(root, "select count(*) from reviews")[0][0] > 0


def test_running_again_with_nothing_new_changes_no_row(warehouse):
    root, _ = warehouse
    tables = ("films", "critics", "reviews", "review_keys", "crawl_runs", "rejects")

    def snapshot():
        return {t: query(root, f"select * from {t} order by all") for t in tables}

    before = snapshot()
    again = pipeline([], str(root))
    assert again.loads == []
    assert snapshot() == before


def readme_example_queries() -> list[str]:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Example queries", 1)[1].split("```", 2)[1]
    return [" ".join(q.split()) for q in re.findall(r'reviews sql "(.*?)"', section, re.S)]


def test_readme_example_queries_answer_on_the_demo_warehouse(warehouse):
    root, _ = warehouse
    queries = readme_example_queries()
    assert len(queries) == 5
    for query_text in queries:
        result = CliRunner().invoke(app, ["sql", query_text, "--data-dir", str(root), "--format", "json"])
        assert result.exit_code == 0, (query_text, result.stderr)
        assert result.stdout.strip(), f"no rows for: {query_text}"


def test_a_lost_warehouse_is_loaded_again_from_the_landing_zone(warehouse, tmp_path):
    # The README's backup section says the landing files are what a lost warehouse can be rebuilt from.
    import shutil

    root, _ = warehouse
    shutil.copytree(root / "raw", tmp_path / "raw")
    rebuilt = pipeline([], str(tmp_path))
    assert sorted(load["source"] for load in rebuilt.loads) == ["demo", "demo-feed"]
    def rows(data, table):  # a parallel sum's last digits depend on the order its threads met the rows
        return [tuple(round(v, 9) if isinstance(v, float) else v for v in row)
                for row in query(data, f"select * from {table} order by all")]

    for table in ("films", "critics", "reviews", "film_scores", "critic_stats"):
        assert rows(tmp_path, table) == rows(root, table), table
