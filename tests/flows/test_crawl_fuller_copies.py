"""A review met twice in one crawl, as an unrated excerpt on its film's page and in full with its rating on its own
page, ends in the warehouse in full and rated, whichever page the crawl meets first (lineage QA: the first copy
met won, and the rating was lost for good)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.pipeline import SourceSpec, pipeline
from tests.crawlers.localsite import NOT_FOUND, Answer, LocalSite
from warehouse.db import connect, warehouse_path

FAST = {"RETRY_TIMES": 1, "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "REVIEWS_CANARY_PAGES": 0}
FULL = "A tender, funny film about loneliness in a near-future city, and the best thing Phoenix has done."


def _page(review: dict, link: str) -> Answer:
    review = {"@context": "https://schema.org", "@type": "Review", "identifier": "x4",
              "itemReviewed": {"@type": "Movie", "name": "Her", "dateCreated": "2013"},
              "author": {"@type": "Person", "name": "Ann Lee"}, **review}
    return Answer(200, f'<!DOCTYPE html><html><head><script type="application/ld+json">{json.dumps(review)}'
                       f'</script></head><body><a href="{link}">more</a></body></html>')


def _route(site: LocalSite, path: str) -> Answer:
    if path == "/film/her":
        return _page({"reviewBody": "A tender, funny film… Read more"}, "/r/x4")
    if path == "/r/x4":
        return _page({"reviewBody": FULL, "reviewRating": {"@type": "Rating", "ratingValue": "4", "bestRating": "5"}},
                     "/film/her")
    return NOT_FOUND


@pytest.mark.parametrize("start", ["/film/her", "/r/x4"], ids=["excerpt-first", "full-first"])
def test_a_review_met_as_an_unrated_excerpt_and_in_full_lands_in_full_with_its_rating(tmp_path: Path,
                                                                                       start: str) -> None:
    root = tmp_path / "data"
    with LocalSite(_route) as site:
        load = pipeline([SourceSpec("schema_org", [f"{site.url}{start}"], "site", settings=FAST)], str(root)).loads[0]
    conn = connect(warehouse_path(root), read_only=True)
    try:
        rows = conn.execute("select body, rating_raw, score from reviews").fetchall()
    finally:
        conn.close()
    assert rows == [(FULL, "4", 75.0)]
    # Every landed copy is accounted for: the fuller repeat lands and is merged as a duplicate.
    assert load["scraped"] == load["loaded"] + load["duplicates"] + load["rejected"]
    assert load["loaded"] == 1
