"""robots.txt read as RFC 9309 says, on top of Scrapy's RobotsTxtMiddleware.

Stock Scrapy (2.19) treats a robots.txt that answers 5xx like any other answer (its error page parsed
as rules: in effect allow-all), one it cannot download (refused, timed out, larger than
DOWNLOAD_MAXSIZE) as allow-all, and ignores `Crawl-delay` (its parsers read it, the middleware does
not use it). Here:

- 5xx or 429 (after RetryMiddleware's retries), or no answer at all (a network error): "unreachable",
  which RFC 9309 section 2.3.1.4 says means complete disallow. Nothing on that host is crawled in this
  run (stat `robotstxt/unreachable`, one warning); the next run asks again. A 4xx stays allow-all
  (section 2.3.1.3), as does a download dropped on purpose (IgnoreRequest); one a stop cut short while it
  waited for its retry (politeness.CrawlStopping) disallows all, and one failed unasked because its host had
  stopped answering (unreachable.HostDown) is unreachable.
- Longer than DOWNLOAD_MAXSIZE (at least 500 KiB, the least section 2.5 says a crawler must read): the
  download stops there and the file is read up to its last full line before that point (stat
  `robotstxt/truncated`, one warning), instead of failing and allowing everything.
- `Crawl-delay` for our user agent: the least time between two requests to that host for the whole
  run, at most REVIEWS_CRAWL_DELAY_MAX seconds (a longer one is capped, with a log line); kept by
  crawlers.politeness.PacingMiddleware, so AutoThrottle cannot lower it.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Request, Response
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

from crawlers.politeness import CrawlStopping, DomainPacer, slot_key
from crawlers.unreachable import HostDown

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.robotstxt import RobotParser
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

ROBOTSTXT = "reviews_robotstxt"  # request meta: this is a robots.txt download made by the middleware
RECEIVED = "reviews_robotstxt_received"
MIN_READ = 500 * 1024  # RFC 9309 section 2.5: crawlers MUST be able to parse at least 500 KiB
DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


def product_token(user_agent: str) -> str | None:
    """The name robots.txt groups are matched against (RFC 9309 2.2.1: letters, "_" and "-"): "film-reviews" of
    "film-reviews/0.1 (+https://example.org/contact)", "MyBot" of "Mozilla/5.0 (compatible; MyBot/1.0)"; None
    when there is none, and the whole user agent is matched as before. Matched against the whole string, a group
    for a word of the contact address ("example.org") applied to us (politeness QA)."""
    found = re.search(r"compatible;\s*([A-Za-z_-]+)", user_agent) or re.match(r"\s*([A-Za-z_-]+)", user_agent)
    return found[1] if found else None


def robots_name(settings: BaseSettings) -> str | None:
    """The name robots rules address this crawler by: ROBOTSTXT_USER_AGENT when set, else USER_AGENT's product
    token (robots.txt groups, and a page's `<meta name=…>` or `X-Robots-Tag: name:` in crawlers/meta_robots.py)."""
    return settings.get("ROBOTSTXT_USER_AGENT") or product_token(settings.get("USER_AGENT") or "")


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    """Scrapy's robots.txt middleware with RFC 9309's unreachable, size and Crawl-delay rules."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        settings = crawler.settings
        self._pacer = DomainPacer.of(crawler)
        self._crawl_delay_max = settings.getfloat("REVIEWS_CRAWL_DELAY_MAX", 60.0)
        self._maxsize = settings.getint("DOWNLOAD_MAXSIZE")
        self._warnsize = settings.getint("DOWNLOAD_WARNSIZE")
        self._read_limit = max(self._maxsize, MIN_READ) if self._maxsize else 0  # 0: no limit at all
        crawler.signals.connect(self._headers_received, signal=signals.headers_received)
        crawler.signals.connect(self._bytes_received, signal=signals.bytes_received)
        self._robotstxt_useragent = robots_name(settings)

    async def robot_parser(self, request: Request) -> RobotParser | None:
        # Scrapy's own, but the robots.txt request is marked (ROBOTSTXT) and asks for an uncompressed
        # body, so its size is what is counted in _bytes_received.
        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            robotsreq = Request(
                f"{url.scheme}://{url.netloc}/robots.txt",
                priority=self.DOWNLOAD_PRIORITY,
                # allow_offsite: a robots.txt that redirects to another host (www. to the bare domain) is
                # followed, as RFC 9309 asks; filtered as offsite, it was read as allow-all (crawler QA).
                meta={"dont_obey_robotstxt": True, ROBOTSTXT: True, "allow_offsite": True},
                headers={"Accept-Encoding": "identity"},
                callback=NO_CALLBACK,
            )
            assert self.crawler.engine is not None
            try:
                resp = await self.crawler.engine.download_async(robotsreq)
                await self._parse_robots(resp, netloc, request)
            except Exception as e:
                if not isinstance(e, IgnoreRequest):
                    logger.error("Error downloading %(request)s: %(f_exception)s",
                                 {"request": robotsreq, "f_exception": e}, extra={"spider": self.crawler.spider})
                self._robots_error(e, netloc)
            self._stats.inc_value("robotstxt/request_count")
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser

    # The size limit: the HTTP handler reads `download_maxsize` after headers_received and before the
    # first bytes_received. Lifted there (0, no limit) for a robots.txt, the download is not cancelled
    # at DOWNLOAD_MAXSIZE but stopped by _bytes_received at _read_limit, and the response keeps what
    # came; put back at the first chunk, the limit still bounds a body a server compressed regardless.
    def _headers_received(self, headers: Any, body_length: int, request: Request, spider: Any = None) -> None:
        if request.meta.get(ROBOTSTXT) and self._read_limit:
            request.meta.update({"download_maxsize": 0, "download_warnsize": 0, RECEIVED: 0})

    def _bytes_received(self, data: bytes, request: Request, spider: Any = None) -> None:
        if not (request.meta.get(ROBOTSTXT) and self._read_limit and RECEIVED in request.meta):
            return
        if request.meta[RECEIVED] == 0:
            request.meta.update({"download_maxsize": self._maxsize, "download_warnsize": self._warnsize})
        request.meta[RECEIVED] += len(data)
        if request.meta[RECEIVED] >= self._read_limit:
            raise StopDownload(fail=False)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500 or response.status == 429:
            self._stats.inc_value("robotstxt/unreachable")
            logger.warning("%(url)s answered %(status)d: robots.txt unreachable, so everything on %(netloc)s is "
                           "disallowed in this run (RFC 9309 2.3.1.4)",
                           {"url": response.url, "status": response.status, "netloc": netloc},
                           extra={"spider": self.crawler.spider})
            response = response.replace(body=DISALLOW_ALL)
        elif self._read_limit and ("download_stopped" in response.flags or len(response.body) > self._read_limit):
            body = response.body[:self._read_limit]
            body = body[:body.rfind(b"\n") + 1]  # the last full line; a rule cut in half is no rule
            self._stats.inc_value("robotstxt/truncated")
            logger.warning("%(url)s is larger than %(limit)d bytes: only its first %(kept)d bytes are read",
                           {"url": response.url, "limit": self._read_limit, "kept": len(body)},
                           extra={"spider": self.crawler.spider})
            response = response.replace(body=body)
        # Scrapy's _parse_robots, with the Crawl-delay taken before the requests waiting for this parser go on.
        self._stats.inc_value("robotstxt/response_count")
        self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        parser = build_from_crawler(self._parserimpl, self.crawler, response.body)
        self._honour_crawl_delay(parser, netloc, request)
        await self.crawler.signals.send_catch_log_async(signal=signals.robots_parsed, robotparser=parser,
                                                        request=request)
        waiting = self._parsers[netloc]
        assert isinstance(waiting, Deferred)
        self._parsers[netloc] = parser
        waiting.callback(parser)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if isinstance(exc, CrawlStopping):
            # Not read before the crawl stopped: the pages waiting for it must not go out unchecked (review).
            self._disallow_all(netloc)
            return
        if isinstance(exc, IgnoreRequest) and not isinstance(exc, HostDown):  # a host given up is unreachable
            super()._robots_error(exc, netloc)  # dropped on purpose: allow-all, as Scrapy does
            return
        self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        self._stats.inc_value("robotstxt/unreachable")
        logger.warning("robots.txt of %(netloc)s unreachable (%(exc)s), so everything on it is disallowed in "
                       "this run (RFC 9309 2.3.1.4)", {"netloc": netloc, "exc": exc},
                       extra={"spider": self.crawler.spider})
        self._disallow_all(netloc)

    def _disallow_all(self, netloc: str) -> None:
        parser = build_from_crawler(self._parserimpl, self.crawler, DISALLOW_ALL)
        waiting = self._parsers[netloc]
        assert isinstance(waiting, Deferred)
        self._parsers[netloc] = parser
        waiting.callback(parser)

    def _honour_crawl_delay(self, parser: RobotParser, netloc: str, request: Request) -> None:
        useragent = self._robotstxt_useragent or request.headers.get(b"User-Agent", self._default_useragent)
        try:
            delay = parser.crawl_delay(useragent)
        except (TypeError, ValueError):
            return
        if not delay or delay <= 0:
            return
        kept = min(delay, self._crawl_delay_max)
        if kept < delay:
            logger.info("robots.txt of %(netloc)s asks for Crawl-delay: %(delay)g; kept at REVIEWS_CRAWL_DELAY_MAX, "
                        "%(kept)g s", {"netloc": netloc, "delay": delay, "kept": kept},
                        extra={"spider": self.crawler.spider})
        else:
            logger.info("robots.txt of %(netloc)s asks for Crawl-delay: %(delay)g: its requests at least that far "
                        "apart", {"netloc": netloc, "delay": delay}, extra={"spider": self.crawler.spider})
        self._pacer.set_crawl_delay(slot_key(self.crawler, request), kept)
        self._stats.max_value("robotstxt/crawl_delay", kept)
