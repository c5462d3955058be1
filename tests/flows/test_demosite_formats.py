"""Structured-data formats of the demo site round-trip to the ground truth, hostile text included."""

from __future__ import annotations

import datetime as dt
import json
import re

import extruct
import feedparser
import pytest

from flows.demosite import DemoSite
from flows.demosite.routes import respond
from flows.demosite.truth import iter_truth

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
BASE = "http://demo.test"
LD_RE = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def strip_wrappers(block: str) -> str:
    block = block.strip()
    block = block.removeprefix("/* <![CDATA[ */").removesuffix("/* ]]> */").strip()
    return block.removeprefix("<!--").removesuffix("-->").strip()


def ld_blocks(html: str) -> tuple[list[dict], int]:
    good, bad = [], 0
    for raw in LD_RE.findall(html):
        try:
            good.append(json.loads(strip_wrappers(raw)))
        except json.JSONDecodeError:
            bad += 1
    return good, bad


@pytest.fixture(scope="module")
def site() -> DemoSite:
    return DemoSite(now=NOW)


@pytest.fixture(scope="module")
def truth(site) -> dict[str, dict]:
    return {t["identifier"]: t for t in iter_truth(site)}


def get(site: DemoSite, path: str) -> str:
    r = respond(site, BASE, path)
    assert r.status == 200, path
    charset = r.content_type.split("charset=")[-1] if "charset=" in r.content_type else "utf-8"
    return r.body.decode(charset)


def test_film_pages_json_ld_round_trips_every_review_and_has_one_malformed_block(site, truth):
    seen, malformed, wraps = set(), 0, set()
    for film in site.films:
        for page in range(1, 5):
            path = f"/film/{film.slug}/" if page == 1 else f"/film/{film.slug}/reviews/page/{page}/"
            html = get(site, path)
            wraps.add("CDATA" in html)
            blocks, bad = ld_blocks(html)
            malformed += bad
            movie = next(b for b in blocks if b["@type"] == "Movie")
            assert movie["dateCreated"] == str(film.year)
            assert movie.get("sameAs") == film.imdb_url
            assert 0 <= movie["aggregateRating"]["ratingValue"] <= 5
            for rv in movie["review"]:
                t = truth[rv["identifier"]]
                assert path in t["pages"]
                assert rv["reviewBody"] == t["body_published"]
                assert rv["name"] == t["title_published"]
                assert rv["author"]["name"] == t["critic_name"]
                assert rv["url"] == f"{BASE}/review/{t['identifier']}/"
                assert rv.get("publisher", {}).get("name") == t["outlet"]
                assert ("reviewRating" in rv) == (t["rating_raw"] is not None)
                seen.add(rv["identifier"])
    assert malformed == 1
    assert len(seen) == 3000
    assert wraps == {True, False}


def test_json_ld_escapes_script_end_tags_and_hostile_strings_round_trip(site, truth):
    hostile = next(t for t in truth.values() if t["title"] == "<script>alert(1)</script>")
    html = get(site, hostile["pages"][0])
    assert "<\\/script>" in html
    assert html.count("</script>") == len(LD_RE.findall(html))
    blocks, _ = ld_blocks(html)
    reviews = {r["identifier"]: r for b in blocks if b["@type"] == "Movie" for r in b["review"]}
    assert reviews[hostile["identifier"]]["name"] == "<script>alert(1)</script>"
    assert "<script>alert(1)</script>" not in html.split("<main>")[1]


def test_entities_are_double_encoded_in_json_ld(site):
    film = next(f for f in site.films if "&" in f.title)
    blocks, _ = ld_blocks(get(site, f"/film/{film.slug}/"))
    movie = next(b for b in blocks if b["@type"] == "Movie")
    assert movie["name"] == "Tom &amp; Jerry: Night Shift"


def _microdata_reviews(html: str, syntax: str) -> list[dict]:
    data = extruct.extract(html, base_url=BASE, syntaxes=[syntax], uniform=True)[syntax]
    return [d for d in data if d.get("@type") == "Review"]


def test_critic_pages_microdata_round_trips_including_hostile_strings(site, truth):
    wanted = [t for t in truth.values() if t["audience"] == "critic"
              and ("<" in t["title"] + t["body"] or "Ã" in t["body_published"] or t["syndication_group"])]
    assert len(wanted) >= 4
    for t in wanted:
        items = _microdata_reviews(get(site, t["pages"][1]), "microdata")
        item = next(i for i in items if i["identifier"] == t["identifier"])
        assert item["name"] == t["title_published"]
        assert item["reviewBody"] == t["body_published"]
        assert item["author"]["name"] == t["critic_name"]
        assert item["publisher"]["name"] == t["outlet"]
        assert item["itemReviewed"]["dateCreated"] == str(t["film_year"])
        assert item["datePublished"] == t["date_displayed"]
        rating = item.get("reviewRating")
        if t["rating_raw"] and t["score"] is not None and "/" in t["rating_raw"]:
            value, best = float(rating["ratingValue"]), float(rating["bestRating"])
            assert rating["worstRating"] == "0" and value / best * 100 == pytest.approx(t["score"], abs=0.01)
        elif t["rating_raw"]:
            assert rating["ratingValue"] == t["rating_raw"] and "bestRating" not in rating


def test_user_pages_rdfa_round_trips_hostile_names_and_bodies(site, truth):
    users = [t for t in truth.values() if t["audience"] == "user"]
    wanted = [next(t for t in users if "DROP TABLE" in t["critic_name"]),
              next(t for t in users if "<img" in t["body"]),
              next(t for t in users if t["rating_raw"] == "★★★☆☆"),
              next(t for t in users if "\n\n" in t["body"])]
    for t in wanted:
        html = get(site, t["pages"][1])
        data = extruct.extract(html, base_url=BASE, syntaxes=["rdfa"])["rdfa"]
        ident = "https://schema.org/identifier"
        node = next(n for n in data if any(v.get("@value") == t["identifier"] for v in n.get(ident, [])))
        body = node["https://schema.org/reviewBody"][0]["@value"]
        assert body == t["body_published"]
        names = {v["@value"] for n in data for v in n.get("https://schema.org/name", [])}
        assert t["critic_name"] in names
        assert "publisher" not in json.dumps(node)


def test_itemreviewed_uses_title_variants_but_keeps_year_and_imdb(site, truth):
    variants = set()
    for t in list(truth.values())[:600]:
        if t["audience"] != "critic":
            continue
        html = get(site, t["pages"][1])
        for item in _microdata_reviews(html, "microdata"):
            name = item["itemReviewed"]["name"]
            if name != truth[item["identifier"]]["film_title"]:
                variants.add(name)
                assert item["itemReviewed"]["dateCreated"]
    assert any(v.endswith(")") for v in variants) and any(v.islower() for v in variants)


def test_windows_1252_critic_pages_are_encoded_and_declared(site, truth):
    odd = [p for p in site.critics if p.charset == "windows-1252"]
    assert len(odd) >= 3
    r = respond(site, BASE, odd[0].path)
    assert r.content_type == "text/html; charset=windows-1252"
    html = r.body.decode("cp1252")
    assert '<meta charset="windows-1252">' in html
    items = _microdata_reviews(r.body.decode("cp1252"), "microdata")
    assert items and all(truth[i["identifier"]]["body_published"] == i["reviewBody"] for i in items)


def test_rss_feed_has_latest_fifty_with_rev_and_film_namespaces(site, truth):
    xml = get(site, "/feed.xml")
    assert 'xmlns:rev="http://purl.org/stuff/rev#"' in xml and "<rev:maxRating>" in xml
    feed = feedparser.parse(xml)
    assert not feed.bozo and len(feed.entries) == 50
    for entry in feed.entries:
        t = truth[entry.id]
        assert "/feed.xml" in t["pages"]
        assert entry.author == t["critic_name"]
        assert entry.published_parsed[:3] == tuple(int(x) for x in t["published_on"].split("-"))
    dates = [truth[e.id]["published_on"] for e in feed.entries]
    assert min(dates) >= max(t["published_on"] for t in truth.values() if "/feed.xml" not in t["pages"])


def test_robots_sitemaps_and_lists_link_the_site(site):
    assert get(site, "/robots.txt") == f"User-agent: *\nDisallow: /search\n\nSitemap: {BASE}/sitemap.xml\n"
    index = get(site, "/sitemap.xml")
    assert f"{BASE}/sitemap-films.xml" in index and f"{BASE}/sitemap-people.xml" in index
    assert get(site, "/sitemap-films.xml").count("<loc>") == 40
    assert get(site, "/sitemap-people.xml").count("<loc>") >= 150
    films = get(site, "/films/")
    assert '<link rel="next" href="/films/?page=2">' in films and 'rel="next"' in films
    assert "/search?q=" in get(site, f"/film/{site.films[0].slug}/")
    assert respond(site, BASE, "/nope").status == 404
    assert respond(site, BASE, "/film/her-2013/reviews/page/1/").status == 404
