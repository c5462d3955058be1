"""robots.txt per RFC 9309: Crawl-delay kept, unreachable means disallow, an oversized file is read in part
(crawlers/robots.py). Real crawls, in a child process, of sites served on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flows.crawl import CrawlResult, run_crawl
from tests.crawlers.localsite import NOT_FOUND, Answer, LocalSite, gaps, logged_stat, plain_page, review_page

PAGES = [f"/p/{i}" for i in range(3)]


def crawl(site: LocalSite, data: Path, path: str = "/", **settings: Any) -> CrawlResult:
    return run_crawl("schema_org", [site.url + path], source="site", data=data, settings=settings,
                     show_progress=False)


def site_with_robots(robots: Answer | None) -> LocalSite:
    """`/` links three review pages; robots.txt answers `robots` (None: no answer at all)."""

    def route(site: LocalSite, path: str) -> Answer | None:
        if path == "/robots.txt":
            return robots
        if path == "/":
            return plain_page("home", PAGES + ["/private/secret"])
        if path in PAGES or path == "/private/secret":
            return review_page(site.url + path, path)
        return NOT_FOUND

    return LocalSite(route)


def test_crawl_delay_in_robots_txt_spaces_every_request_to_the_site(tmp_path):
    robots = Answer(200, "User-agent: *\nCrawl-delay: 1\n", content_type="text/plain")
    with site_with_robots(robots) as site:
        result = crawl(site, tmp_path)
        pages = [hit for hit in site.hits if hit.path != "/robots.txt"]
    assert result.stats["landed"] == 4  # the three pages and /private/secret
    assert min(gaps(pages)) >= 0.95, gaps(pages)
    assert logged_stat(result.log_path.read_text(encoding="utf-8"), "robotstxt/crawl_delay") == 1


def test_a_crawl_delay_above_the_cap_is_kept_at_the_cap(tmp_path):
    robots = Answer(200, "User-agent: *\nCrawl-delay: 3600\n", content_type="text/plain")
    with site_with_robots(robots) as site:
        result = crawl(site, tmp_path, REVIEWS_CRAWL_DELAY_MAX=0.5)
        pages = [hit for hit in site.hits if hit.path != "/robots.txt"]
    assert result.stats["landed"] == 4
    assert min(gaps(pages)) >= 0.45, gaps(pages)
    assert "kept at REVIEWS_CRAWL_DELAY_MAX" in result.log_path.read_text(encoding="utf-8")


def test_a_robots_txt_answering_5xx_disallows_the_whole_site_for_the_run(tmp_path):
    with site_with_robots(Answer(503, "down for maintenance")) as site:
        result = crawl(site, tmp_path, RETRY_TIMES=1, REVIEWS_RETRY_BACKOFF=0.1)
        asked = site.paths()
    assert set(asked) == {"/robots.txt"}, asked  # asked again once (the retry), no page at all
    assert result.stats["pages"] == 0 and result.stats["landed"] == 0
    assert result.stats["robots_forbidden"] >= 1
    log = result.log_path.read_text(encoding="utf-8")
    assert "robots.txt unreachable" in log and logged_stat(log, "robotstxt/unreachable") == 1


def test_a_robots_txt_that_never_answers_disallows_the_whole_site_for_the_run(tmp_path):
    with site_with_robots(None) as site:
        result = crawl(site, tmp_path, RETRY_TIMES=1)
        asked = site.paths()
    assert set(asked) == {"/robots.txt"}, asked
    assert result.stats["pages"] == 0 and result.stats["landed"] == 0
    assert logged_stat(result.log_path.read_text(encoding="utf-8"), "robotstxt/unreachable") == 1


def test_a_robots_txt_answering_404_allows_everything(tmp_path):
    with site_with_robots(NOT_FOUND) as site:
        result = crawl(site, tmp_path, AUTOTHROTTLE_START_DELAY=0.05)
    assert result.stats["landed"] == 4


def test_an_oversized_robots_txt_is_read_up_to_the_size_limit_not_ignored(tmp_path):
    rules = b"User-agent: *\nDisallow: /private/\n"
    padding = b"# " + b"x" * 97 + b"\n"  # 100 bytes a line
    body = rules + padding * (9 * 1024 * 1024 // len(padding))  # 9 MB, over DOWNLOAD_MAXSIZE (8 MB)
    with site_with_robots(Answer(200, body, content_type="text/plain")) as site:
        result = crawl(site, tmp_path, AUTOTHROTTLE_START_DELAY=0.05)
        asked = site.paths()
    assert "/private/secret" not in asked
    assert set(PAGES) <= set(asked) and result.stats["landed"] == 3
    assert logged_stat(result.log_path.read_text(encoding="utf-8"), "robotstxt/truncated") == 1


def test_a_robots_txt_over_500_kib_keeps_its_rules_past_500_kib(tmp_path):
    # RFC 9309 asks for at least 500 KiB; under DOWNLOAD_MAXSIZE the whole file is read, as before.
    padding = b"# " + b"x" * 97 + b"\n"
    body = b"User-agent: *\n" + padding * 6000 + b"Disallow: /private/\n"  # the rule at 600 KB
    with site_with_robots(Answer(200, body, content_type="text/plain")) as site:
        result = crawl(site, tmp_path, AUTOTHROTTLE_START_DELAY=0.05)
        asked = site.paths()
    assert "/private/secret" not in asked and result.stats["landed"] == 3


def test_a_robots_txt_redirected_to_another_host_is_followed_and_obeyed(tmp_path):
    # www. redirecting to the bare domain: the offsite filter dropped the redirect and the site was read as
    # allow-all (crawler QA), so /private/secret was fetched.
    rules = Answer(200, "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    with LocalSite(lambda site, path: rules if path == "/robots.txt" else NOT_FOUND, host="127.0.0.2") as other:
        moved = Answer(301, "", headers={"Location": other.url + "/robots.txt"})
        with site_with_robots(moved) as site:
            result = crawl(site, tmp_path)
            asked = site.paths()
        assert other.paths() == ["/robots.txt"]
    assert "/private/secret" not in asked
    assert result.stats["landed"] == 3 and result.stats["robots_forbidden"] == 1


def test_robots_groups_match_the_product_token_not_a_word_of_the_contact_address(tmp_path):
    # RFC 9309 2.2.1: a group for "example.org" is not ours because our contact address is on example.org.
    robots = Answer(200, "User-agent: example.org\nAllow: /\n\nUser-agent: *\nDisallow: /private/\n",
                    content_type="text/plain")
    with site_with_robots(robots) as site:
        result = crawl(site, tmp_path, USER_AGENT="film-reviews/0.1 (+https://example.org/crawler)")
        asked = {hit.path for hit in site.hits}
    assert "/private/secret" not in asked and set(PAGES) <= asked
    assert result.stats["landed"] == 3


def test_a_robots_group_for_our_product_token_is_ours_whatever_the_version_or_contact(tmp_path):
    robots = Answer(200, "User-agent: film-reviews\nDisallow: /p/\n\nUser-agent: *\nAllow: /\n",
                    content_type="text/plain")
    with site_with_robots(robots) as site:
        crawl(site, tmp_path, USER_AGENT="film-reviews/0.1 (+https://example.org/crawler)")
        asked = {hit.path for hit in site.hits}
    assert not asked & set(PAGES) and "/private/secret" in asked


def test_the_product_token_is_the_user_agents_leading_name_or_the_bot_a_compatible_string_names():
    from crawlers.robots import product_token

    assert product_token("film-reviews/0.1 (+https://example.org/crawler)") == "film-reviews"
    assert product_token("Mozilla/5.0 (compatible; MyBot/1.0; +https://example.org/bot)") == "MyBot"
    # No name to take: robots.txt groups are matched against the whole user agent, as Scrapy does (no crash).
    assert product_token("/0.1") is None and product_token("  ") is None
