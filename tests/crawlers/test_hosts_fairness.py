"""A host that must be waited for (Crawl-delay, Retry-After) does not slow the other hosts of the same crawl.

Requests held for their host's time used to count toward CONCURRENT_REQUESTS (16): a slow-paced host with
more pending pages than that filled every slot, and the other host got one page per Crawl-delay too.
"""

from __future__ import annotations

from flows.crawl import run_crawl
from tests.crawlers.localsite import NOT_FOUND, Answer, LocalSite, gaps, plain_page, review_page


def site(pages: int, robots: str, host: str) -> LocalSite:
    links = [f"/r/{i}" for i in range(pages)]

    def route(site: LocalSite, path: str) -> Answer | None:
        if path == "/robots.txt":
            return Answer(200, robots, content_type="text/plain")
        if path == "/":
            return plain_page("home", links)
        if path in links:
            return review_page(site.url + path, f"{host} {path}")
        return NOT_FOUND

    return LocalSite(route, host=host)


def test_a_host_with_a_long_crawl_delay_does_not_hold_back_another_host(tmp_path):
    with site(24, "User-agent: *\nCrawl-delay: 2\n", "127.0.0.2") as paced, \
            site(40, "User-agent: *\n", "127.0.0.3") as free:
        result = run_crawl("schema_org", [paced.url + "/", free.url + "/"], source="two", data=tmp_path,
                           settings={"CLOSESPIDER_TIMEOUT": 10}, show_progress=False)
        paced_pages, free_pages = paced.times("/r/"), free.times("/r/")
    assert len(free_pages) == 40, f"only {len(free_pages)} of 40 pages of the other host in 10 s"
    asked = [hit for hit in paced.hits if hit.path != "/robots.txt"]
    assert paced_pages and min(gaps(asked)) >= 1.95  # its own spacing is kept
    assert result.stats["finish_reason"] == "closespider_timeout"


def chain(pages: int, host: str) -> LocalSite:
    """Each page links the next only, so the crawl has at most one request of this host to schedule."""
    def route(site: LocalSite, path: str) -> Answer | None:
        if path == "/robots.txt":
            return Answer(200, "User-agent: *\n", content_type="text/plain")
        if path == "/":
            return plain_page("home", ["/r/0"])
        for i in range(pages):
            if path == f"/r/{i}":
                return review_page(site.url + path, f"{host} {path}", [f"/r/{i + 1}"] if i + 1 < pages else [])
        return NOT_FOUND

    return LocalSite(route, host=host)


def test_requests_waiting_for_their_host_do_not_use_up_the_crawl_s_concurrency(tmp_path):
    # While the chain's next page is not yet known, the scheduler has only the paced host's requests to
    # give: they wait for their turn, and must not take the slots the chain needs when its next page comes.
    with site(40, "User-agent: *\nCrawl-delay: 2\n", "127.0.0.2") as paced, chain(15, "127.0.0.3") as linked:
        run_crawl("schema_org", [paced.url + "/", linked.url + "/"], source="two", data=tmp_path,
                  settings={"CLOSESPIDER_TIMEOUT": 10}, show_progress=False)
        chained = linked.times("/r/")
    assert len(chained) == 15, f"only {len(chained)} of the 15 chained pages in 10 s"


def test_requests_waiting_for_a_paced_host_stay_bounded(tmp_path, queue=None):
    # Once some wait, the host gets no more than its concurrency: the rest stay in the scheduler (and a
    # resumable crawl's JOBDIR), not in memory, since waiting requests do not count toward CONCURRENT_REQUESTS.
    # (The first requests, handed out before robots.txt set the pace, may all wait: at most CONCURRENT_REQUESTS.)
    from tests.crawlers.localsite import logged_stat

    settings = {"CLOSESPIDER_TIMEOUT": 6} | ({"SCHEDULER_PRIORITY_QUEUE": queue} if queue else {})
    with site(400, "User-agent: *\nCrawl-delay: 1\n", "127.0.0.2") as paced:
        result = run_crawl("schema_org", [paced.url + "/"], source="one", data=tmp_path, settings=settings,
                           show_progress=False)
    waiting = logged_stat(result.log_path.read_text(encoding="utf-8"), "pacing/waiting_max")
    assert waiting is not None and waiting <= 16
