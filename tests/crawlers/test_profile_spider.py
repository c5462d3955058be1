"""The site profile spider on a saved real page, on one small page per edge case, and in one real crawl."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from crawlers.items import ReviewItem
from crawlers.profile_pages import extract_with_profile
from crawlers.profiles import load_profile
from crawlers.spiders.profile import EMPTY_PAGES, ProfileSpider
from flows.crawl import run_crawl
from tests.crawlers.conftest import FIXTURES, html_response, make_spider, split_output
from tests.crawlers.localsite import NOT_FOUND, Answer, LocalSite

LETTERBOXD_PROFILE = FIXTURES / "profiles" / "letterboxd-member.toml"
LETTERBOXD_URL = "https://letterboxd.com/hyumiguel/films/reviews/"
URL = "https://reviews.example/critics/ann/"

PROFILE = """
reviews = "li.review"
next_pages = ["a[rel=next]"]
follow = ["a.film::attr(href)"]
audience = "critic"
outlet = "The Daily Reel"
[fields]
source_review_id = "::attr(id)"
url = "a.permalink::attr(href)"
film_title = ".film"
critic_name = ".by::text"
rating = ".score::text"
body = { css = ".text", html = true }
"""


def write_profile(tmp_path: Path, text: str = PROFILE) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def parse(profile: Path, body: str | bytes, url: str = URL, encoding: str = "utf-8", **kwargs: object):
    spider = make_spider(ProfileSpider, url=url, profile=str(profile), **kwargs)
    items, requests = split_output(list(spider.parse(html_response(url, body, encoding))))
    return spider, items, requests


def review(n: int | str, extra: str = "") -> str:
    return (f'<li class="review" id="r{n}"><a class="film" href="/film/{n}/">Film <i>{n}</i></a>'
            f'<span class="by">Ann</span><span class="score">{n}/5</span>'
            f'<div class="text"><p>Review {n}.</p></div>{extra}</li>')


@pytest.fixture(scope="module")
def letterboxd():
    """The saved member page read with the fixture profile (parsed once: it is 130 KB)."""
    page = (FIXTURES / "pages" / "letterboxd-member-reviews-page.html").read_bytes()
    spider = make_spider(ProfileSpider, url=LETTERBOXD_URL, profile=str(LETTERBOXD_PROFILE))
    return split_output(list(spider.parse(html_response(LETTERBOXD_URL, page))))


def test_letterboxd_member_page_gives_its_twelve_reviews_with_films_and_ids(letterboxd):
    items, _ = letterboxd
    assert len(items) == 12
    assert (items[0].source_review_id, items[0].film_title, items[0].film_year) == (
        "viewing:1012371142", "Weapons", "2025")
    assert (items[-1].source_review_id, items[-1].film_title, items[-1].film_year) == (
        "viewing:841454062", "Where Is the Friend’s House?", "1987")
    assert items[0].url == "https://letterboxd.com/hyumiguel/film/weapons-2025/"
    assert {(i.critic_name, i.outlet, i.audience, i.syntax, i.source, i.run_id) for i in items} == {
        ("hyumiguel", "Letterboxd", "user", "profile-html", "test", "run-1")}  # its body is read with html = true


def test_letterboxd_stars_stay_verbatim_and_the_half_star_class_is_the_value(letterboxd):
    items, _ = letterboxd
    rated = [i for i in items if i.rating_raw]
    assert len(rated) == 11
    assert [(i.rating_raw, i.rating_value) for i in items[:4]] == [
        ("★★", "4"), (None, None), ("★★★", "6"), ("★★★★★", "10")]
    assert {(i.rating_best, i.rating_worst) for i in rated} == {("10", "0")}
    assert (items[1].rating_best, items[1].rating_worst) == (None, None)  # no rating, no scale


def test_letterboxd_dates_and_language_are_read_as_published(letterboxd):
    items, _ = letterboxd
    assert [i.published_raw for i in items[:3]] == ["2025-09-12", "2025-09-11", "2025-08-26"]
    assert {i.language_declared for i in items} == {"pt"}


def test_body_with_html_true_keeps_the_markup_but_not_the_excluded_more_link(letterboxd):
    # The "more" link had landed as the last word of nine of the page's twelve reviews (from the pages QA).
    items, _ = letterboxd
    assert items[1].body == "<p>Lindo… O Miguel de 2019 se sente muito feliz…</p>"
    assert items[2].body.startswith('<div class="collapsed-text"> <p>Ari\n Aster construiu')
    assert items[2].body.endswith("Tome por exemplo seu filme anterior a \nEddington,… </p> </div>")
    assert not any("reveal" in item.body for item in items)


def test_letterboxd_next_page_is_followed(letterboxd):
    _, requests = letterboxd
    assert [r.url for r in requests] == ["https://letterboxd.com/hyumiguel/films/reviews/page/2/"]


def test_element_text_joins_its_text_nodes_and_links_resolve_against_the_page(tmp_path):
    _, items, _ = parse(write_profile(tmp_path), f'<ul>{review(1, "<a class=permalink href=/r/1>#</a>")}</ul>')
    assert (items[0].film_title, items[0].url, items[0].critic_name) == (
        "Film 1", "https://reviews.example/r/1", "Ann")


def test_review_without_url_gets_the_page_url_and_without_id_a_key_of_critic_film_and_content(tmp_path):
    profile = write_profile(tmp_path, PROFILE.replace('"::attr(id)"', '"::attr(data-id)"'))
    _, items, _ = parse(profile, f"<ul>{review(1)}</ul>")
    assert (items[0].url, items[0].page_url) == (URL, URL)
    assert re.fullmatch(r"Ann\|Film 1\|#[0-9a-f]{16}", items[0].source_review_id)


def test_next_and_follow_links_are_followed_and_offsite_ones_are_not(tmp_path):
    body = (f'<ul>{review(1)}</ul><a rel="next" href="?page=2">next</a>'
            '<a rel="next" href="https://elsewhere.example/page/2">elsewhere</a>')
    _, _, requests = parse(write_profile(tmp_path), body)
    assert [r.url for r in requests] == [URL + "?page=2", "https://reviews.example/film/1/"]


def test_page_where_reviews_match_nothing_yields_no_item_and_is_counted(tmp_path):
    spider, items, requests = parse(write_profile(tmp_path), '<div class="redesigned">Film 1</div>')
    assert items == [] and requests == []
    assert spider.crawler.stats.get_value(EMPTY_PAGES) == 1


def test_page_fields_fill_what_a_review_lacks(tmp_path):
    text = PROFILE.replace('film_title = ".film"', "") + '[page_fields]\nfilm_title = "h1"\n'
    profile = write_profile(tmp_path, text)
    _, items, _ = parse(profile, f"<h1>Her (2013)</h1><ul>{review(1)}{review(2)}</ul>")
    assert [i.film_title for i in items] == ["Her (2013)", "Her (2013)"]


def test_a_pattern_takes_its_first_group_and_the_scale_makes_it_the_value(tmp_path):
    rating = '{ css = ".score::text", pattern = "(\\\\d+)/" }'
    scale = "[rating_scale]\nbest = 5\nworst = 0\n"
    profile = write_profile(tmp_path, PROFILE.replace('".score::text"', rating) + scale)
    _, items, _ = parse(profile, f"<ul>{review(4)}</ul>")
    assert (items[0].rating_raw, items[0].rating_value, items[0].rating_best, items[0].rating_worst) == (
        "4", "4", "5", "0")


def test_known_reviews_stop_the_pagination_of_an_incremental_run(tmp_path):
    (tmp_path / "ids.txt").write_text("r1\nr2\n", encoding="utf-8")
    (tmp_path / "state.json").write_text(json.dumps({"known_ids_path": str(tmp_path / "ids.txt")}), encoding="utf-8")
    body = f'<ul>{review(1)}{review(2)}</ul><a rel="next" href="?page=2">next</a>'
    spider, items, requests = parse(write_profile(tmp_path), body, state=str(tmp_path / "state.json"))
    assert len(items) == 2 and requests == []
    assert spider.crawler.stats.get_value("incremental/pages_not_followed") == 1


def known_page_spider(tmp_path: Path) -> ProfileSpider:
    """A profile spider on an incremental run that knows reviews r1 and r2, having met their films' pages."""
    (tmp_path / "ids.txt").write_text("r1\nr2\n", encoding="utf-8")
    (tmp_path / "state.json").write_text(json.dumps({"known_ids_path": str(tmp_path / "ids.txt")}), encoding="utf-8")
    spider = make_spider(ProfileSpider, url=URL, profile=str(write_profile(tmp_path)),
                         state=str(tmp_path / "state.json"))
    spider.meet("https://reviews.example/film/1/", "https://reviews.example/film/2/")
    return spider


def test_a_known_page_whose_links_the_run_has_met_is_no_sign_the_site_is_unchanged(tmp_path):
    # A review page linking back to its listing held nothing back: counting it hid a site whose pagination had
    # gone, as an incremental run "unchanged" (crawler QA: 6 pages against 48, judged healthy).
    spider = known_page_spider(tmp_path)
    spider.meet(URL + "?page=2")
    body = f'<ul>{review(1)}{review(2)}</ul><a rel="next" href="?page=2#top">next</a>'
    items, requests = split_output(list(spider.parse(html_response(URL, body))))
    assert len(items) == 2 and requests == []
    assert spider.crawler.stats.get_value("incremental/pages_not_followed") is None


def test_a_known_page_linking_back_to_a_start_page_is_no_sign_the_site_is_unchanged(tmp_path):
    # A start page not yet answered was not noted as met, so a page of known reviews linking to it was counted
    # as not followed, and an incremental run "unchanged" could hide pagination that had gone.
    spider = known_page_spider(tmp_path)
    body = f'<ul>{review(1)}{review(2)}</ul><a rel="next" href="{URL}">first page</a>'
    split_output(list(spider.parse(html_response(URL + "?page=2", body))))
    assert spider.crawler.stats.get_value("incremental/pages_not_followed") is None


def test_a_known_page_linking_to_the_address_that_redirected_to_it_is_no_sign_the_site_is_unchanged(tmp_path):
    spider = known_page_spider(tmp_path)
    old = "https://reviews.example/old-listing/"
    response = html_response(URL + "?page=2", f'<ul>{review(1)}{review(2)}</ul><a rel="next" href="{old}">listing</a>')
    response.request.meta["redirect_urls"] = [old]
    split_output(list(spider.parse(response)))
    assert spider.crawler.stats.get_value("incremental/pages_not_followed") is None


def test_spider_without_a_profile_says_how_to_give_one():
    with pytest.raises(ValueError, match="needs a site profile: -a profile=path/to/site.toml"):
        make_spider(ProfileSpider, url=URL)


HOSTILE = ('<ul><li class="review" id="x1"><a class="film">Amélie</a><span class="score">11/10</span>'
           '<div class="text"><script>alert("café")</script><p onclick="steal()">Très bien\x00</p></div></li>'
           '<li class="review" id="x2"><span class="score"> </span></li></ul>')


def test_hostile_page_yields_its_items_verbatim(tmp_path):
    _, items, _ = parse(write_profile(tmp_path), HOSTILE.encode("cp1252"), encoding="cp1252")
    first, second = items
    assert (first.film_title, first.rating_raw) == ("Amélie", "11/10")
    assert first.body.startswith('<script>alert("café")</script><p onclick="steal()">Très bien')
    # A review missing every field is still yielded: the landing pipeline rejects it with its reason.
    assert (second.source_review_id, second.film_title, second.rating_raw, second.body) == ("x2", None, None, None)


def test_unreadable_or_empty_markup_is_no_crash():
    profile = load_profile(LETTERBOXD_PROFILE)
    for html in ("", "<p>\udcff</p>", "<<<>>>&&&;;" * 1000):
        page = extract_with_profile(html, URL, "test", profile)
        assert page.reviews == [] and page.next_pages == []


def listing(site: LocalSite, path: str) -> Answer:
    """Three listing pages of two reviews each, linked by rel=next; page 3 is the last."""
    found = re.fullmatch(r"/reviews/page/(\d+)/", path)
    if not found or not 1 <= int(found.group(1)) <= 3:
        return NOT_FOUND
    n = int(found.group(1))
    next_link = f'<a rel="next" href="/reviews/page/{n + 1}/">Older</a>' if n < 3 else ""
    return Answer(200, f"<html><body><ul>{review(f'{n}a')}{review(f'{n}b')}</ul>{next_link}</body></html>")


NO_FOLLOW = PROFILE.replace('follow = ["a.film::attr(href)"]', "")  # only the listing pages


def test_a_real_crawl_lands_every_review_and_stops_at_the_last_page(tmp_path):
    with LocalSite(listing) as site:
        result = run_crawl("profile", [f"{site.url}/reviews/page/1/"], source="site", data=tmp_path,
                           spider_args={"profile": str(write_profile(tmp_path, NO_FOLLOW))}, show_progress=False,
                           settings={"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0})
        paths = site.paths()
    landed = [json.loads(line) for line in result.items_path.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["source_review_id"] for r in landed) == ["r1a", "r1b", "r2a", "r2b", "r3a", "r3b"]
    assert {(r["syntax"], r["source"], r["audience"]) for r in landed} == {("profile-html", "site", "critic")}
    assert [p for p in paths if p.startswith("/reviews/")] == [f"/reviews/page/{n}/" for n in (1, 2, 3)]
    assert (result.stats["landed"], result.stats["rejected"], result.stats["errors"]) == (6, 0, 0)


def test_a_real_crawl_whose_start_url_redirects_to_another_site_lands_nothing_from_it(tmp_path):
    profile = write_profile(tmp_path, PROFILE)

    def elsewhere(site, path):
        return Answer(200, f"<html><body><ul>{review(1)}</ul><a rel=next href='/page/2/'>next</a></body></html>")

    with LocalSite(elsewhere, host="127.0.0.2") as other:
        def start(site, path):
            return Answer(302, "", headers={"Location": f"{other.url}/reviews/"}) if path == "/reviews/" else NOT_FOUND

        with LocalSite(start) as site:
            result = run_crawl("profile", [f"{site.url}/reviews/"], source="site", data=tmp_path,
                               spider_args={"profile": str(profile)}, show_progress=False,
                               settings={"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0})
        # fetched once, as the redirect's target, and not read; its robots.txt asked first, as for any host
        assert other.paths() == ["/robots.txt", "/reviews/"]
    assert result.stats["landed"] == 0


def test_an_id_met_again_naming_another_film_is_refused_with_its_reason_not_dropped_as_a_repeat(tmp_path):
    from crawlers.items import RefusedReview

    spider = make_spider(ProfileSpider, url=URL, profile=str(write_profile(tmp_path)))
    first = list(spider.parse(html_response(URL, f"<ul>{review(1)}</ul>")))
    # The same page-local id (r1) on another film's page, and the first review again on its own page.
    clash = list(spider.parse(html_response(URL + "2/", f"<ul>{review(1).replace('Film <i>1</i>', 'Film 2')}</ul>")))
    again = list(spider.parse(html_response(URL + "r1/", f"<ul>{review(1)}</ul>")))
    assert isinstance(first[0], ReviewItem) and isinstance(again[0], ReviewItem)
    refused = clash[0]
    assert isinstance(refused, RefusedReview) and refused.review.film_title == "Film 2"
    assert "ids look unique per page only" in refused.reason and refused.review.run_id == "run-1"


def test_a_refused_review_goes_to_the_runs_rejects_with_its_reason(tmp_path):
    from scrapy.exceptions import DropItem
    from scrapy.utils.test import get_crawler

    from crawlers.items import RefusedReview
    from crawlers.pipelines import ValidationPipeline

    crawler = get_crawler(ProfileSpider, {"REVIEWS_DATA_DIR": str(tmp_path)})
    crawler.spider = make_spider(ProfileSpider, url=URL, profile=str(write_profile(tmp_path)))
    pipeline = ValidationPipeline(crawler)
    item = ReviewItem(source="test", url=URL, source_review_id="r1", film_title="Film 2", critic_name="Ann",
                      body="x", run_id="run-1")
    with pytest.raises(DropItem, match="unique per page"):
        pipeline.process_item(RefusedReview(item, "review id 'r1' … ids look unique per page only"))
    assert crawler.stats.get_value("reviews/rejected") == 1
    pipeline.close_spider()
    (written,) = [json.loads(line) for path in tmp_path.rglob("*.rejects.jsonl")
                  for line in path.read_text(encoding="utf-8").splitlines()]
    assert "unique per page" in written["reason"] and written["item"]["film_title"] == "Film 2"


def test_the_same_review_on_its_critics_page_naming_its_film_another_way_is_no_clash(tmp_path):
    spider = make_spider(ProfileSpider, url=URL, profile=str(write_profile(tmp_path)))
    list(spider.parse(html_response(URL, f"<ul>{review(1)}</ul>")))
    other_way = review(1).replace("Film <i>1</i>", "film 1 (2013)").replace('<span class="by">Ann</span>', "")
    again = list(spider.parse(html_response(URL + "critic/", f"<ul>{other_way}</ul>")))
    assert isinstance(again[0], ReviewItem)
