"""Only the web is crawled: a request for another scheme (`file:`, `ftp:`, `s3:`, `data:`) is dropped unless it is
one of the start URLs the user named (`--url file:///saved/page.html` still reads a saved page).

The spiders follow a link when its host is the site's, and `file://<the site's host>/etc/passwd` has that host:
a crawled page could make the crawl read the machine's own files and land them, and a link to
`file://<host>/dev/zero` read until memory ran out (DOWNLOAD_MAXSIZE does not bound Scrapy's file handler; security
QA). Checked here, in front of every other downloader middleware (robots.txt included, which fetched
`ftp://<host>/robots.txt`), so no spider, feed or profile can widen a crawl beyond the web.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

WEB_SCHEMES = frozenset({"http", "https"})


class WebOnlyMiddleware:
    """Drops a request whose scheme is not http(s), unless it is a start URL; logs and counts each
    (`reviews/refused_scheme`)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._named: set[str] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WebOnlyMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if urlsplit(request.url).scheme.lower() in WEB_SCHEMES:
            return
        spider = self.crawler.spider
        if self._named is None:  # as Scrapy requested them: it normalizes a URL when it makes the Request
            self._named = {Request(url).url for url in getattr(spider, "start_urls", ())}
        if request.url in self._named:
            return
        spider.logger.warning("not fetched: %s is not a web address (only http and https links are followed)",
                              request.url)
        self.crawler.stats.inc_value("reviews/refused_scheme")
        raise IgnoreRequest(f"not a web address: {request.url}")
