"""Crawler traps end: links are not followed past REVIEWS_MAX_BARREN_DEPTH pages without reviews in a row
(crawlers/spiders/base.py), and CLOSESPIDER_PAGECOUNT caps a run. Real crawls, in a child process, of sites
served on 127.0.0.1; CLOSESPIDER_TIMEOUT only keeps a regression from running forever."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from flows.config import Source
from flows.crawl import CrawlResult, run_crawl
from tests.crawlers.localsite import NOT_FOUND, Answer, LocalSite, logged_stat, plain_page, review_page

FAST = {"AUTOTHROTTLE_START_DELAY": 0.02, "CLOSESPIDER_TIMEOUT": 30}


def crawl(site: LocalSite, data: Path, path: str, spider: str = "schema_org", **settings: Any) -> CrawlResult:
    return run_crawl(spider, [site.url + path], source="site", data=data, settings={**FAST, **settings},
                     show_progress=False)


def calendar(site: LocalSite, path: str) -> Answer:
    """/cal/N: a day without reviews linking the day before and the day after, for ever."""
    if match := re.fullmatch(r"/cal/(-?\d+)", path):
        day = int(match[1])
        return plain_page(f"day {day}", [f"/cal/{day - 1}", f"/cal/{day + 1}"])
    return NOT_FOUND


def test_an_endless_calendar_without_reviews_ends_at_the_barren_depth(tmp_path):
    with LocalSite(calendar) as site:
        result = crawl(site, tmp_path, "/cal/0", REVIEWS_MAX_BARREN_DEPTH=5)
        days = {int(path.rsplit("/", 1)[1]) for path in site.paths() if path.startswith("/cal/")}
    assert result.stats["finish_reason"] == "finished"
    assert days == set(range(-5, 6))  # /cal/0 and five days either way
    assert logged_stat(result.log_path.read_text(encoding="utf-8"), "barren/pages_not_followed") == 2


def test_the_default_barren_depth_ends_an_endless_calendar(tmp_path):
    with LocalSite(calendar) as site:
        result = crawl(site, tmp_path, "/cal/0")
        days = {int(path.rsplit("/", 1)[1]) for path in site.paths() if path.startswith("/cal/")}
    assert result.stats["finish_reason"] == "finished"
    assert days == set(range(-20, 21))


def test_a_page_with_reviews_starts_the_barren_count_again(tmp_path):
    # A chain of 30 pages where every fourth has a review: never more than 3 barren pages in a row.
    def route(site: LocalSite, path: str) -> Answer:
        if match := re.fullmatch(r"/chain/(\d+)", path):
            n = int(match[1])
            links = [f"/chain/{n + 1}"] if n < 29 else []
            return review_page(site.url + path, n, links) if n % 4 == 3 else plain_page(f"page {n}", links)
        return NOT_FOUND

    with LocalSite(route) as site:
        result = crawl(site, tmp_path, "/chain/0", REVIEWS_MAX_BARREN_DEPTH=3)
        asked = site.paths()
    assert {f"/chain/{n}" for n in range(30)} <= set(asked)
    assert result.stats["landed"] == 7



def same_review_page(review_id: str | None, links: list[str]) -> Answer:
    """A page showing one review, the same on every page of the trap (with or without an id of its own)."""
    review = {"@context": "https://schema.org", "@type": "Review", "itemReviewed": {"@type": "Movie", "name": "Alien"},
              "author": {"@type": "Person", "name": "Ann Critic"}, "reviewBody": "Tense and cold.",
              "reviewRating": {"@type": "Rating", "ratingValue": "4", "bestRating": "5"}}
    if review_id:
        review["@id"] = review_id
    anchors = "".join(f'<a href="{link}">{link}</a> ' for link in links)
    return Answer(200, f'<!DOCTYPE html><html><head><script type="application/ld+json">{json.dumps(review)}'
                       f"</script></head><body>{anchors}</body></html>")


@pytest.mark.parametrize("trap", ["pagination clamped past its end", "a session id in every link"])
def test_pages_that_only_repeat_a_review_the_run_has_met_end_at_the_barren_depth(tmp_path, trap):
    # Both traps put a review on every page, so counting pages with reviews never ended them (politeness QA:
    # 9,875 pages in 60 s). Pages 1 and 2 have reviews of their own; from page 3 on every page shows page 3's.
    def route(site: LocalSite, path: str) -> Answer:
        if match := re.fullmatch(r"/list\?page=(\d+)", path):
            page = int(match[1])
            if page < 3:
                return review_page(site.url + path, page, [f"/list?page={page + 1}"])
            return same_review_page(f"{site.url}/review/3", [f"/list?page={page + 1}"])
        if match := re.fullmatch(r"/s\?sid=(\d+)", path):
            return same_review_page(None, [f"/s?sid={int(match[1]) + 1}"])
        return NOT_FOUND

    start = "/list?page=1" if trap.startswith("pagination") else "/s?sid=1"
    with LocalSite(route) as site:
        result = crawl(site, tmp_path, start, REVIEWS_MAX_REPEAT_DEPTH=4)
        asked = [path for path in site.paths() if path.startswith(start[:3])]
    assert result.stats["finish_reason"] == "finished"
    # The first page showing the repeated review is fresh; the four after it repeat it, the fifth is not followed.
    last = 3 + 4 if trap.startswith("pagination") else 1 + 4
    assert asked == [start.replace("=1", f"={n}") for n in range(1, last + 2)]
    # A review without an id is known by its page in the landing zone; the warehouse makes the copies one review.
    assert result.stats["landed"] == (3 if trap.startswith("pagination") else len(asked))



def test_pagination_past_its_end_ends_when_its_reviews_ids_are_only_places_on_the_page(tmp_path):
    # Traps QA: `"@id": "#r0"` reads as <page>#r0, a new id on every page, so the repeat leash never counted.
    def route(site: LocalSite, path: str) -> Answer:
        if match := re.fullmatch(r"/list\?page=(\d+)", path):
            return same_review_page("#r0", [f"/list?page={int(match[1]) + 1}"])
        return NOT_FOUND

    with LocalSite(route) as site:
        result = crawl(site, tmp_path, "/list?page=1", REVIEWS_MAX_REPEAT_DEPTH=4)
        asked = [path for path in site.paths() if path.startswith("/list")]
    assert result.stats["finish_reason"] == "finished"
    assert asked == [f"/list?page={n}" for n in range(1, 1 + 4 + 2)]


def test_a_listing_that_repeats_a_featured_review_on_every_page_is_read_to_its_end(tmp_path):
    # Thirty listing pages, each showing the same featured review beside a link to one new review page: counted
    # against the 20 pages without reviews, the last nine review pages were lost (review of the trap fix).
    def route(site: LocalSite, path: str) -> Answer:
        if match := re.fullmatch(r"/list\?page=(\d+)", path):
            page = int(match[1])
            links = [f"/review/{page}"] + ([f"/list?page={page + 1}"] if page < 30 else [])
            return same_review_page(f"{site.url}/featured", links)
        if match := re.fullmatch(r"/review/(\d+)", path):
            return review_page(site.url + path, match[1])
        return NOT_FOUND

    with LocalSite(route) as site:
        result = crawl(site, tmp_path, "/list?page=1")
        asked = set(site.paths())
    assert {f"/review/{n}" for n in range(1, 31)} <= asked
    assert result.stats["landed"] == 31  # the featured review once, and the thirty


REVIEW_ENTRY = ("<entry><title>Alien</title><id>tag:site,2026:a1</id><link href='/review/a1'/>"
                "<letterboxd:filmTitle>Alien</letterboxd:filmTitle><updated>2026-11-19T08:00:00Z</updated>"
                "<author><name>Ann Critic</name></author><content type='html'>Tense.</content></entry>")
# A Letterboxd diary entry that holds no review and no rating: skipped, so its page has no reviews.
DIARY_ENTRY = ("<entry><title>Alien</title><id>tag:site,2026:d{page}</id><link href='/diary/{page}'/>"
               "<letterboxd:filmTitle>Alien</letterboxd:filmTitle>"
               "<letterboxd:watchedDate>2025-11-21</letterboxd:watchedDate><updated>2026-11-19T08:00:00Z</updated>"
               "<content type='html'>&lt;p&gt;Watched on Friday November 21, 2025.&lt;/p&gt;</content></entry>")


@pytest.mark.parametrize("later_pages", ["empty", "diary entries only", "the first page's review again"])
def test_an_atom_feed_whose_next_link_never_ends_stops_at_the_barren_depth(tmp_path, later_pages):
    def route(site: LocalSite, path: str) -> Answer:
        if match := re.fullmatch(r"/atom\?page=(\d+)", path):
            page = int(match[1])
            entry = (REVIEW_ENTRY if page == 1 or later_pages.endswith("again") else "" if later_pages == "empty"
                     else DIARY_ENTRY.format(page=page))
            return Answer(200, "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom' "
                               "xmlns:letterboxd='https://letterboxd.com'>"
                               f"<title>Feed</title><link rel='next' href='/atom?page={page + 1}'/>{entry}</feed>",
                          content_type="application/atom+xml")
        return NOT_FOUND

    with LocalSite(route) as site:
        result = crawl(site, tmp_path, "/atom?page=1", spider="feed", REVIEWS_MAX_BARREN_DEPTH=4,
                       REVIEWS_MAX_REPEAT_DEPTH=4)
        pages = [path for path in site.paths() if path.startswith("/atom")]
    assert result.stats["finish_reason"] == "finished"
    assert (result.stats["landed"], result.stats["rejected"]) == (1, 0)  # an empty feed page is no broken one
    assert pages == [f"/atom?page={n}" for n in range(1, 7)]  # page 1 has the review, then 2 to 6 without


def test_sitemap_entries_start_at_barren_depth_zero(tmp_path):
    # Eight review-less pages listed in a sitemap, each linking one more review-less page, which links
    # another: with a depth of 1 every listed page and the page it links are read, and no further.
    def route(site: LocalSite, path: str) -> Answer:
        if path == "/sitemap.xml":
            urls = "".join(f"<url><loc>{site.url}/s/{n}</loc></url>" for n in range(8))
            return Answer(200, "<?xml version='1.0' encoding='UTF-8'?><urlset "
                               f"xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{urls}</urlset>",
                          content_type="application/xml")
        if path.startswith("/s/"):
            return plain_page(path, [path + "/more"])
        return NOT_FOUND

    with LocalSite(route) as site:
        crawl(site, tmp_path, "/sitemap.xml", REVIEWS_MAX_BARREN_DEPTH=1)
        asked = set(site.paths())
    assert {f"/s/{n}" for n in range(8)} | {f"/s/{n}/more" for n in range(8)} <= asked
    assert not [path for path in asked if path.endswith("/more/more")]


def test_closespider_pagecount_from_a_sources_settings_caps_the_run(tmp_path):
    # The per-source hard stop, with the barren rule off: reviews.toml's `settings = {CLOSESPIDER_PAGECOUNT
    # = 15}` reaches the crawl as a Scrapy setting, and the run ends as 'closespider_pagecount'.
    source = Source("site", "schema_org", ["unused"], settings={"CLOSESPIDER_PAGECOUNT": 15,
                                                                "REVIEWS_MAX_BARREN_DEPTH": 0})
    with LocalSite(calendar) as site:
        result = crawl(site, tmp_path, "/cal/0", **source.scrapy_settings(None))
        asked = [path for path in site.paths() if path.startswith("/cal/")]
    assert result.stats["finish_reason"] == "closespider_pagecount"
    assert 14 <= len(asked) <= 15 + 16  # the cap, plus what was in flight (CONCURRENT_REQUESTS)


@pytest.mark.parametrize(("url", "reason"), [
    ("https://x.test/s/news/about/news/about/news/", "a path segment more than 2 times"),
    ("https://x.test/" + "/".join(f"d{n}" for n in range(21)), "a path of more than 20 segments"),
    ("https://x.test/list?genre=a&genre=b&genre=c", "a query parameter more than 2 times"),
])
def test_links_shaped_like_a_trap_are_told_apart(url: str, reason: str) -> None:
    from crawlers.url_traps import trap_shape

    assert trap_shape(url) == reason


@pytest.mark.parametrize("url", [
    "https://x.test/film/her/reviews/her/", "https://x.test/list?genre=a&genre=b&sort=date",
    "https://x.test/reviews/2026/11/28/her-review", "http://[::1/broken",
])
def test_links_of_review_sites_are_no_trap(url: str) -> None:
    from crawlers.url_traps import trap_shape

    assert trap_shape(url) is None


def test_relative_links_that_every_path_answers_end_by_their_shape(tmp_path):
    # Traps QA: any path answers the same page, linking news/ and about/ relatively: 2^21 chains under the
    # barren leash, 28,390 pages in 240 s and still going.
    def route(site: LocalSite, path: str) -> Answer:
        return plain_page("anything", ["news/", "about/"]) if path.startswith("/s/") else NOT_FOUND

    with LocalSite(route) as site:
        result = crawl(site, tmp_path, "/s/")
        asked = site.paths()
    assert result.stats["finish_reason"] == "finished"
    assert len(asked) < 100, len(asked)
    assert result.stats["traps"]["links_not_followed"] > 0


def test_filters_that_each_add_one_more_end_by_their_shape(tmp_path):
    def route(site: LocalSite, path: str) -> Answer:
        if not path.startswith("/list"):
            return NOT_FOUND
        query = path.partition("?")[2]
        return plain_page("list", [f"/list?{query + '&' if query else ''}genre={g}" for g in ("a", "b", "c")])

    with LocalSite(route) as site:
        result = crawl(site, tmp_path, "/list")
        asked = site.paths()
    assert result.stats["finish_reason"] == "finished"
    # robots.txt, the list, one filter, and two (as pairs: Scrapy's duplicate filter sorts the query); no third.
    assert len(asked) == 1 + 1 + 3 + 6, asked


def test_a_trap_that_branches_in_any_other_shape_ends_at_the_run_budget(tmp_path):
    # A tree of pages without reviews, two new links each, 2^20 pages under the barren leash.
    def route(site: LocalSite, path: str) -> Answer:
        if match := re.fullmatch(r"/t/(\d+)", path):
            n = int(match[1])
            return plain_page(f"node {n}", [f"/t/{2 * n}", f"/t/{2 * n + 1}"])
        return NOT_FOUND

    with LocalSite(route) as site:
        result = crawl(site, tmp_path, "/t/1", REVIEWS_MAX_BARREN_PAGES=30)
        asked = [path for path in site.paths() if path.startswith("/t/")]
    assert result.stats["finish_reason"] == "finished"
    assert 30 < len(asked) <= 61, len(asked)  # 30 pages' links followed: the tree's first 61 nodes at most
    assert "REVIEWS_MAX_BARREN_PAGES = 30" in result.log_path.read_text(encoding="utf-8")
    assert result.stats["traps"]["pages_not_followed"] > 0


def test_a_page_that_refreshes_itself_is_read_and_one_that_moves_is_followed(tmp_path):
    # Traps QA: Scrapy made the refresh a redirect to the page itself, which the duplicate filter dropped, so no
    # review on such pages landed, with no error.
    def route(site: LocalSite, path: str) -> Answer:
        if path == "/":
            return plain_page("home", ["/r/1", "/r/2", "/old"])
        if path in ("/r/1", "/r/2"):
            answer = review_page(site.url + path, path[-1])
            refresh = f'<meta http-equiv="refresh" content="60; url={site.url}{path}#top">'
            answer.body = str(answer.body).replace("<head>", "<head>" + refresh)
            return answer
        if path == "/old":
            return Answer(200, f'<html><head><meta http-equiv="refresh" content="0; url={site.url}/r/3"></head></html>')
        if path == "/r/3":
            return review_page(site.url + path, 3)
        return NOT_FOUND

    with LocalSite(route) as site:
        result = crawl(site, tmp_path, "/")
    items = [json.loads(line) for line in result.items_path.read_text(encoding="utf-8").splitlines()]
    assert sorted(item["url"] for item in items) == [f"{site.url}/r/{n}" for n in (1, 2, 3)]


def test_a_redirect_loop_is_a_failed_request_not_a_page_dropped_without_a_word(tmp_path):
    # Traps QA: /loop1 -> /loop2 -> /loop1 was dropped by the duplicate filter: errors 0, nothing logged.
    def route(site: LocalSite, path: str) -> Answer:
        if path == "/":
            return plain_page("home", ["/loop1", "/r/1"])
        if path in ("/loop1", "/loop2"):
            return Answer(301, "", {"Location": "/loop2" if path == "/loop1" else "/loop1"})
        if path == "/r/1":
            return review_page(site.url + path, 1)
        return NOT_FOUND

    with LocalSite(route) as site:
        result = crawl(site, tmp_path, "/", REDIRECT_MAX_TIMES=5)
        loops = [path for path in site.paths() if path.startswith("/loop")]
    assert result.stats["landed"] == 1
    assert (result.stats["errors"], result.stats["failed_requests"]["dropped"]) == (1, 1)
    assert len(loops) == 6  # the first ask and five redirects, then "max redirections reached"


def test_a_page_that_redirects_to_itself_with_a_session_id_is_read(tmp_path):
    # Review: /r/1 -> 302 /r/1;jsessionid=X, which the session cleaning made /r/1 again, dropped by the duplicate
    # filter as a page already asked for: no item, no error. The page answers the second ask, as a site that has
    # set its cookie does; a refresh naming a new session id is the page too.
    asked: list[str] = []

    def route(site: LocalSite, path: str) -> Answer:
        if path == "/":
            return plain_page("home", ["/r/1", "/r/2"])
        if path == "/r/1":
            asked.append(path)
            if len(asked) == 1:
                return Answer(302, "", {"Location": "/r/1;jsessionid=A1B2C3D4E5F6A7B8"})
            return review_page(site.url + path, 1)
        if path == "/r/2":
            answer = review_page(site.url + path, 2)
            answer.body = str(answer.body).replace(
                "<head>", '<head><meta http-equiv="refresh" content="30; url=/r/2;jsessionid=F00D1234BEEF5678">')
            return answer
        return NOT_FOUND

    with LocalSite(route) as site:
        result = crawl(site, tmp_path, "/")
    items = [json.loads(line) for line in result.items_path.read_text(encoding="utf-8").splitlines()]
    assert sorted(item["url"] for item in items) == [f"{site.url}/r/1", f"{site.url}/r/2"]
    assert result.stats["errors"] == 0


def test_a_sites_hub_pages_do_not_spend_the_run_budget_while_they_lead_to_reviews(tmp_path):
    # Review: 3 A-Z pages, 60 film pages without reviews, each linking its review page; with a budget of 30
    # spent once for the whole run, 26 of 60 reviews landed.
    def route(site: LocalSite, path: str) -> Answer:
        if path == "/":
            return plain_page("home", [f"/az/{letter}" for letter in "abc"])
        if match := re.fullmatch(r"/az/([abc])", path):
            return plain_page("letter", [f"/film/{match[1]}{n}" for n in range(20)])
        if match := re.fullmatch(r"/film/(\w+)", path):
            return plain_page("film", [f"/review/{match[1]}"])
        if match := re.fullmatch(r"/review/(\w+)", path):
            return review_page(site.url + path, match[1])
        return NOT_FOUND

    with LocalSite(route) as site:
        result = crawl(site, tmp_path, "/", REVIEWS_MAX_BARREN_PAGES=30)
    assert result.stats["landed"] == 60
