"""Reviews without an id, signed "Anonymous" or "Guest", on a film's paginated review pages: each lands,
and a re-crawl after new reviews pushed older ones to the next page counts none of them twice."""

from __future__ import annotations

import json
from pathlib import Path

from flows.pipeline import SourceSpec, pipeline
from tests.crawlers.localsite import NOT_FOUND, Answer, LocalSite
from warehouse.db import connect, warehouse_path

FAST = {"RETRY_TIMES": 1, "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "REVIEWS_CANARY_PAGES": 0}
TEXTS = {
    "a": ("Anonymous", "Slow at first, then it carried me away completely.", "4"),
    "b": ("Anonymous", "Too long by half, and the ending fell flat for me.", "2"),
    "c": ("Anonymous", "A tender, funny film about loneliness; I loved it.", "5"),
    "d": ("Guest", "Beautiful to look at, but I felt nothing at all.", "3"),
    "e": ("Anonymous", "Best thing I have seen this year, go and see it.", "5"),
}


def _page(names: str) -> Answer:
    reviews = []
    for name in names:
        author, body, stars = TEXTS[name]
        reviews.append({"@type": "Review", "author": {"@type": "Person", "name": author}, "reviewBody": body,
                        "reviewRating": {"@type": "Rating", "ratingValue": stars, "bestRating": "5"}})
    movie = {"@context": "https://schema.org", "@type": "Movie", "name": "Her", "dateCreated": "2013",
             "review": reviews}
    return Answer(200, f'<!DOCTYPE html><html><head><script type="application/ld+json">{json.dumps(movie)}'
                       f"</script></head><body><p>User reviews</p></body></html>")


def _route(site: LocalSite, path: str) -> Answer:
    pages = site.state["pages"]
    for number, names in enumerate(pages, 1):
        if path == f"/film/her/reviews/{number}":
            return _page(names)
    return NOT_FOUND


def _reviews(root: Path) -> list[tuple[str, str]]:
    conn = connect(warehouse_path(root), read_only=True)
    try:
        return conn.execute("select r.rating_raw, r.body from reviews as r order by r.body").fetchall()
    finally:
        conn.close()


def test_anonymous_reviews_without_ids_all_land_and_a_pagination_move_counts_none_twice(tmp_path):
    root = tmp_path / "data"
    with LocalSite(_route) as site:
        site.state["pages"] = ["abc", "d"]
        spec = SourceSpec("schema_org", [f"{site.url}/film/her/reviews/1", f"{site.url}/film/her/reviews/2"],
                          "users", settings=FAST)
        first = pipeline([spec], str(root)).loads[0]
        assert (first["scraped"], first["loaded"], first["duplicates"]) == (4, 4, 0)

        site.state["pages"] = ["eab", "cd"]  # a new review on top pushes c to the second page
        second = pipeline([spec], str(root)).loads[0]
        assert (second["scraped"], second["loaded"], second["duplicates"]) == (5, 1, 4)
    assert sorted(body for _, body in _reviews(root)) == sorted(text for _, text, _ in TEXTS.values())
