"""A site with no schema.org markup, crawled with a site profile (selectors in a file) through the real pipeline:
the warehouse's numbers equal the site's ground truth, as they do for the schema.org crawl."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from flows.config import load_config
from flows.demo import compare_landing, landed_ids
from flows.pipeline import SourceSpec, pipeline
from tests.flows.conftest import SmallDemo
from tests.flows.truth import expected_by_film, query

DEMO_PROFILE = Path(__file__).parents[2] / "flows" / "demosite" / "redesigned.toml"


@pytest.fixture(scope="module")
def redesigned(tmp_path_factory):
    demo = SmallDemo(tmp_path_factory.mktemp("redesigned-site"), films=6, reviews_per_film=15, variant="redesigned")
    yield demo
    demo.server.shutdown()


@pytest.fixture(scope="module")
def warehouse(redesigned, tmp_path_factory):
    root = tmp_path_factory.mktemp("profile-pipeline")
    # The config names the profile relative to itself, as a user's reviews.toml would.
    (root / "profiles").mkdir()
    (root / "profiles" / "demo.toml").write_text(DEMO_PROFILE.read_text(encoding="utf-8"), encoding="utf-8")
    (root / "reviews.toml").write_text(
        '[[sources]]\nname = "relaunched"\nspider = "profile"\nprofile = "profiles/demo.toml"\n'
        f'urls = ["{redesigned.url}films/"]\n', encoding="utf-8")
    source = load_config(root / "reviews.toml").source("relaunched")
    result = pipeline([SourceSpec(source.spider, source.urls, source.name, spider_args=source.spider_args())],
                      str(root / "data"))
    return root / "data", result


def test_the_schema_org_spider_finds_nothing_on_the_redesigned_site(redesigned):
    from crawlers.extraction import extract_page
    from flows.demosite.routes import respond

    answer = respond(redesigned.site, redesigned.url.rstrip("/"), "/film/her-2013/")
    assert answer.status == 200
    assert extract_page(answer.body.decode(), redesigned.url + "film/her-2013/", "x").reviews == []


def test_a_profile_crawl_lands_every_published_review_once(warehouse, redesigned):
    root, result = warehouse
    crawl = result.crawls[0]
    landed = landed_ids(root / "raw" / "relaunched" / f"{crawl['run_id']}.jsonl")
    comparison = compare_landing(redesigned.truth, landed)
    assert comparison["missing"] == 0 and comparison["unexpected"] == 0 and comparison["landed_twice"] == 0
    assert comparison["matched"] == len(redesigned.truth)


def test_film_scores_from_a_profile_crawl_match_the_ground_truth(warehouse, redesigned):
    root, _ = warehouse
    truth_film = {row["identifier"]: row["film_key"] for row in redesigned.truth}
    film_keys = defaultdict(set)
    for film_id, source_review_id in query(root, "select r.film_id, k.source_review_id from reviews r "
                                                 "join review_keys k using (review_id)"):
        film_keys[film_id].add(truth_film[source_review_id])
    assert all(len(found) == 1 for found in film_keys.values()), "a warehouse film mixes two true films"
    actual = {film_keys[film_id].pop(): (reviews, mean_score)
              for film_id, reviews, mean_score in query(root, "select film_id, reviews, mean_score from film_scores")}
    expected = expected_by_film(redesigned.truth)
    assert set(actual) == set(expected)
    for film_key, (count, mean_score) in expected.items():
        assert actual[film_key][0] == count, film_key
        assert actual[film_key][1] == pytest.approx(mean_score, abs=0.01), film_key


def test_critics_and_users_are_told_apart_by_their_outlet(warehouse, redesigned):
    root, _ = warehouse
    truth_audience = {row["identifier"]: row["audience"] for row in redesigned.truth}
    rows = query(root, "select k.source_review_id, r.audience from reviews r join review_keys k using (review_id)")
    assert rows and all(audience == truth_audience[rid] for rid, audience in rows)


def test_every_profile_run_accounts_for_every_scraped_item(warehouse):
    root, _ = warehouse
    for scraped, loaded, duplicates, rejected in query(
            root, "select scraped, loaded, duplicates, rejected from crawl_runs"):
        assert scraped == loaded + duplicates + rejected
        assert rejected == 0
