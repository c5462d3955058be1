"""Catalogue, determinism and ground-truth behaviour of the demo review site."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest

from flows.demosite import DemoSite, write_truth
from flows.demosite.routes import respond
from flows.demosite.truth import iter_truth

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
SEED_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "seeds" / "her-2013-user-review.txt"


@pytest.fixture(scope="module")
def site() -> DemoSite:
    return DemoSite(now=NOW)


@pytest.fixture(scope="module")
def truth(site: DemoSite) -> list[dict]:
    return list(iter_truth(site))


def test_default_site_has_40_films_3000_reviews_and_at_least_150_people(site, truth):
    assert len(site.films) == 40
    assert site.n_reviews == 3000 == len(truth)
    assert len({t["critic_key"] for t in truth}) >= 150
    assert len({t["outlet"] for t in truth if t["outlet"]}) == 8
    assert len({t["identifier"] for t in truth}) == 3000


def test_same_seed_gives_byte_identical_pages_and_truth(site, tmp_path):
    other = DemoSite(now=NOW)
    for path in ["/", "/film/her-2013/", "/film/her-2013/reviews/page/2/", site.people[3].path,
                 site.people[70].path, "/feed.xml", "/sitemap-people.xml", "/review/r000152/"]:
        assert respond(site, "http://x", path).body == respond(other, "http://x", path).body, path
    write_truth(site, tmp_path / "a.jsonl")
    write_truth(other, tmp_path / "b.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_different_seed_gives_different_content(site):
    other = DemoSite(seed=8, now=NOW)
    assert [f.title for f in other.films] != [f.title for f in site.films]


def test_two_films_titled_her_with_distinct_years_and_ids(site):
    hers = [f for f in site.films if f.title == "Her"]
    assert {(f.year, f.imdb_id) for f in hers} >= {(2013, "tt1798709")}
    assert len(hers) == 2 and hers[0].year != hers[1].year and hers[0].imdb_id != hers[1].imdb_id


def test_most_films_have_imdb_ids_of_seven_or_eight_digits(site):
    ids = [f.imdb_id for f in site.films if f.imdb_id]
    assert len(ids) >= 0.75 * len(site.films)
    assert all(i.startswith("tt") and len(i) in (9, 10) and i[2:].isdigit() for i in ids)
    assert len(set(ids)) == len(ids)


def test_seed_review_is_verbatim_unrated_user_review_of_her_2013(site, truth):
    seed_text = SEED_FILE.read_text(encoding="utf-8").strip()
    rows = [t for t in truth if t["body"] == seed_text]
    assert len(rows) == 1
    row = rows[0]
    assert (row["film_title"], row["film_year"], row["imdb_id"]) == ("Her", 2013, "tt1798709")
    assert row["audience"] == "user" and row["rating_raw"] is None and row["is_positive"] is None
    page = respond(site, "http://x", row["pages"][0]).body.decode()
    assert json.dumps(seed_text, ensure_ascii=False)[1:-1] in page


def test_syndicated_review_appears_under_two_outlets_with_identical_text(truth):
    groups = Counter(t["syndication_group"] for t in truth if t["syndication_group"])
    assert list(groups.values()) == [2]
    a, b = (t for t in truth if t["syndication_group"])
    assert a["identifier"] != b["identifier"] and a["outlet"] != b["outlet"]
    assert (a["critic_key"], a["film_key"], a["title"], a["body"]) == (b["critic_key"], b["film_key"],
                                                                      b["title"], b["body"])


def test_every_rating_form_is_present_with_expected_scores(truth):
    raw = {t["rating_raw"] for t in truth}
    assert any(r and r.endswith("/10") and "." in r for r in raw)
    assert any(r and r.endswith("/5") and ".5" in r for r in raw)
    assert any(r and r.startswith("★") and r.endswith("½") for r in raw)
    assert any(r and "☆" in r for r in raw)
    assert any(r and r.endswith("/4") and ".5" in r for r in raw)
    assert any(r and r.endswith("½/4") for r in raw)
    assert any(r and r.endswith("/100") for r in raw)
    assert {"B+", "A-", "Fresh", "Rotten", "Thumbs up", "Thumbs down"} <= raw
    assert None in raw
    by_raw = {t["rating_raw"]: t["score"] for t in truth if t["rating_raw"]}
    for shown, score in [("8/10", 80), ("3.5/4", 87.5), ("3½/4", 87.5), ("B+", 83.33), ("★★★½", 70),
                         ("★★★☆☆", 60), ("Fresh", None), ("Thumbs down", None)]:
        if shown in by_raw:
            assert by_raw[shown] == score, shown
    for t in truth:
        if t["rating_raw"] is None:
            assert t["is_positive"] is None
        elif t["score"] is not None:
            assert t["is_positive"] == (t["score"] >= 60)


def test_many_user_reviews_are_unrated(truth):
    users = [t for t in truth if t["audience"] == "user"]
    assert sum(t["rating_raw"] is None for t in users) > 0.3 * len(users)


def test_body_sentiment_tracks_score(truth):
    from flows.demosite.text import NEG, POS

    def lexicon(body: str) -> int:
        words = body.lower().replace(".", " ").replace(",", " ").split()
        return sum(w in POS for w in words) - sum(w in NEG for w in words)

    scored = [t for t in truth if t["score"] is not None and t["language"] == "en"]
    hi = [lexicon(t["body"]) for t in scored if t["score"] >= 75]
    lo = [lexicon(t["body"]) for t in scored if t["score"] <= 40]
    assert sum(hi) / len(hi) > 2 and sum(lo) / len(lo) < -1


def test_published_dates_fall_in_the_twelve_weeks_ending_2026_11_22(truth):
    days = {t["published_on"] for t in truth}
    assert min(days) >= "2026-08-31" and max(days) <= "2026-11-22"
    shown = [t["date_displayed"] for t in truth]
    assert any(s.endswith("days ago") for s in shown)
    assert any(s[0].isdigit() and " November " in s for s in shown)
    assert any(s.startswith("Nov ") for s in shown)
    assert any(len(s) == 10 and s[4] == "-" for s in shown)


def test_special_texts_are_present_and_repaired_in_truth(truth):
    assert any("cafÃ©" in t["body_published"] and "café" in t["body"] for t in truth)
    assert any("donâ€™t" in t["body_published"] and "don’t" in t["body"] for t in truth)
    assert any("Tom &amp; Jerry" in t["body_published"] and "Tom & Jerry" in t["body"] for t in truth)
    assert any(t["title"] == "<script>alert(1)</script>" for t in truth)
    assert any('"><img src=x onerror=alert(1)>' in t["body"] for t in truth)
    assert any(t["critic_name"] == "Robert'); DROP TABLE reviews; --" for t in truth)
    assert {"fr", "es", "de", "pt"} <= {t["language"] for t in truth}
    assert any(not t["has_language"] for t in truth)
    assert any(len(t["body"]) > 3000 for t in truth if t["critic_key"].startswith("c"))
    assert any(t["body"][-1] not in ".!?" for t in truth)
    names = {t["critic_name"] for t in truth}
    assert {"Zoë Ångström", "Łukasz Żuławski", "José Martínez", "Nguyễn Thị Lan", "山田太郎"} <= names


def test_truth_pages_list_film_person_and_feed_paths(site, truth):
    for t in truth[:200]:
        assert t["pages"][0].startswith("/film/") and t["pages"][1].startswith(("/critic/", "/user/"))
    assert sum("/feed.xml" in t["pages"] for t in truth) == 50


def test_hundred_thousand_review_site_builds_and_serves_its_last_pages():
    big = DemoSite(films=200, reviews_per_film=500, seed=3, now=NOW)
    assert big.n_reviews == 100_000
    last = big.films[-1]
    r = respond(big, "http://x", f"/film/{last.slug}/reviews/page/25/")
    assert r.status == 200 and b"r099999" in r.body
    assert respond(big, "http://x", f"/film/{last.slug}/reviews/page/26/").status == 404
    assert respond(big, "http://x", "/review/r099999/").status == 200
