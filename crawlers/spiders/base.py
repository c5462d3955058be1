"""What every review spider shares: run identity, start URLs, and stamping items.

Kept apart from the spiders so each spider file holds only its site format's extraction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urldefrag, urlparse

from scrapy.http import HtmlResponse, Request, Response, XmlResponse

from crawlers.counted import counted
from crawlers.items import ReviewItem, UnreadableMarkup
from crawlers.landing import new_run_id
from crawlers.schemes import WEB_SCHEMES
from crawlers.sites import site_of
from crawlers.url_traps import trap_shape

Stamped = TypeVar("Stamped", ReviewItem, UnreadableMarkup)

# Request meta: how many pages in a row led to this request without reviews, and only repeating reviews the run
# has met (crawler traps: follow_meta, below).
BARREN_DEPTH = "barren_depth"
REPEAT_DEPTH = "repeat_depth"
# Stats of what a trap rule left unfollowed: pages whose links were not followed, links shaped like a trap.
BARREN_STAT = "barren/pages_not_followed"
TRAP_STAT = "traps/links_not_followed"


def split_urls(url: str | Iterable[str] | None) -> list[str]:
    if url is None:
        return []
    if isinstance(url, str):
        return [u.strip() for u in url.split(",") if u.strip()]
    return [u for u in url if u]


def is_html(response: Response) -> bool:
    """An HTML page, or XHTML served as XML: the answers that can hold links to follow."""
    if isinstance(response, HtmlResponse):
        return True
    if isinstance(response, XmlResponse):
        try:
            return response.xpath("local-name(/*)").get() == "html"
        except ValueError:
            return False
    return False


def _on_page(review_id: str, page: str | None) -> bool:
    """Whether a review's id is a fragment of the page it was found on."""
    address, fragment = urldefrag(review_id)
    return bool(fragment) and page is not None and address == urldefrag(page)[0]


class ReviewSpiderMixin:
    """Arguments: `url` (comma-separated start URLs), `source` (landing name), `run_id`."""

    name: str

    def init_run(self, url: str | Iterable[str] | None, source: str | None, run_id: str | None) -> None:
        self.start_urls = split_urls(url) or list(getattr(self, "start_urls", []))
        if not self.start_urls:
            raise ValueError(f"spider {self.name!r} needs at least one start URL: -a url=https://...")
        self.source = source or self.name
        self.run_id = run_id or new_run_id()
        self.allowed_domains = sorted({urlparse(u).hostname or "" for u in self.start_urls} - {""})
        # Pages this run has fetched or asked for (see all_known), its start pages from the first.
        self.met_urls: set[str] = {urldefrag(url)[0] for url in self.start_urls}
        # Reviews this run has extracted, by id or a digest of (critic, film, text): see fresh_reviews.
        self.run_review_keys: set[Any] = set()
        # Pages whose links were followed though they held no review new to the run, since the last that held one
        # (see follow_meta).
        self.barren_pages = 0

    def init_incremental(self, state: str | None, full: str | bool = False) -> None:
        """Load what earlier runs of this source saw (written by flows.incremental before the crawl).

        `since`: when the last complete crawl started; sitemap entries not modified since are skipped.
        `known_ids`: review ids already in the warehouse; a listing page made only of known reviews
        is not paginated further. `full` ignores both.
        """
        self.since: date | None = None
        self.known_ids: frozenset[str] = frozenset()
        if state and str(full).lower() not in ("1", "true", "yes"):
            data = json.loads(Path(state).read_text(encoding="utf-8"))
            self.since = date.fromisoformat(data["since"][:10]) if data.get("since") else None
            ids_path = data.get("known_ids_path")
            if ids_path and Path(ids_path).exists():
                self.known_ids = frozenset(Path(ids_path).read_text(encoding="utf-8").split("\n")) - {""}
        # Nothing to skip by: every page is read (the stats say so: flows/incremental.py full_crawl_due).
        self.full_crawl = self.since is None and not self.known_ids

    def follows_redirected_start(self, response: Response) -> bool:
        """Whether to read a page a start URL redirected to. Within its site (http://site.example/ to
        https://www.site.example/) the new host becomes the site's too, or the crawl would stop at the first
        page (links are followed only on allowed hosts; Scrapy's offsite filter reads allowed_domains again
        when it changes). To another site (a parked domain, a sold one, a login host) the page is not read,
        and the run's log and stats say so: a redirect must not widen a crawl beyond what the user named."""
        redirected = response.meta.get("redirect_urls") or []
        host = urlparse(response.url).hostname
        if not redirected or not host or host in self.allowed_domains:
            return True
        # As Scrapy requested them: it lower-cases hosts and percent-encodes spaces and non-ASCII letters.
        if redirected[0] not in {Request(url).url for url in self.start_urls}:
            return True
        if site_of(response.url) != site_of(redirected[0]):
            self.logger.warning("start URL %s redirected to %s, another site: not read", redirected[0], response.url)
            self.crawler.stats.inc_value("reviews/start_redirected_offsite")  # type: ignore[attr-defined]
            return False
        self.allowed_domains = sorted({*self.allowed_domains, host})
        self.logger.info("start URL %s redirected to %s: following links on %s too", redirected[0], response.url,
                         host)
        return True

    def on_site(self, url: str) -> bool:
        """Whether a link stays on the site: a web address whose host, port aside, is an allowed one. Checked by
        the spiders themselves: LinkExtractor's allow_domains compares host:port, and Scrapy's offsite filter lets
        subdomains through; `file://<the site's host>/…` has the site's host (crawlers/schemes.py)."""
        parsed = urlparse(url)
        return parsed.scheme.lower() in WEB_SCHEMES and parsed.hostname in self.allowed_domains

    def all_known(self, review_ids: list[str | None], links: Iterable[str] = ()) -> bool:
        """True when a page's reviews are all in the warehouse already (incremental runs only): its `links` are
        then not followed. Such a page counts as a sign the site is unchanged (flows/health.py) only when one of
        its links is new to this run: a review page whose links all lead where the run has been held nothing
        back, and counting it hid a site whose pagination had gone (QA: 6 pages against 48, judged healthy)."""
        if not self.known_ids or not review_ids or not all(review_ids):
            return False
        if all(rid in self.known_ids for rid in review_ids):
            if any(urldefrag(link)[0] not in self.met_urls for link in links):
                self.crawler.stats.inc_value("incremental/pages_not_followed")  # type: ignore[attr-defined]
            return True
        return False

    def meet(self, *urls: str) -> None:
        """Note pages this run has fetched or asked for (see all_known)."""
        self.met_urls.update(urldefrag(url)[0] for url in urls)

    def meet_page(self, response: Response) -> None:
        """Note a fetched page under its address and each address that redirected to it: a link to the
        address it was asked by leads where the run has been."""
        request = getattr(response, "request", None)
        self.meet(response.url, *(request.meta.get("redirect_urls", ()) if request is not None else ()))

    def follow_meta(self, response: Response, reviews: Iterable[Any],
                    unreadable: bool = False) -> dict[str, int] | None:
        """The barren counts to give the links of this page (their request meta), or None when its links are
        not to be followed.

        Crawler traps are endless chains of pages: a calendar whose every day links the next, a feed whose
        rel=next never ends (pages without reviews), pagination clamped past its end or a session id in every
        link (pages that only repeat reviews the run has met). A page with a review new to the run (or markup
        it could not read) starts both counts again; a page without reviews adds one to BARREN_DEPTH, whose
        links are not followed past REVIEWS_MAX_BARREN_DEPTH; a page whose reviews the run has all met adds one
        to REPEAT_DEPTH, limited by REVIEWS_MAX_REPEAT_DEPTH, a longer leash, since a listing may show one
        featured review on each of its pages beside links to new ones (0: no limit, either). Start URLs and
        sitemap entries start at 0.
        """
        request = getattr(response, "request", None)
        meta = request.meta if request is not None else {}
        barren, repeat = meta.get(BARREN_DEPTH, 0), meta.get(REPEAT_DEPTH, 0)
        reviews = list(reviews)
        if self.fresh_reviews(reviews) or unreadable:
            self.barren_pages = 0
            return {BARREN_DEPTH: 0, REPEAT_DEPTH: 0}
        if reviews:
            repeat += 1
            depth, setting, what = repeat, "REVIEWS_MAX_REPEAT_DEPTH", "only repeating reviews this run has met"
        else:
            barren += 1
            depth, setting, what = barren, "REVIEWS_MAX_BARREN_DEPTH", "without reviews"
        settings = self.crawler.settings  # type: ignore[attr-defined]
        limit = settings.getint(setting)
        budget = settings.getint("REVIEWS_MAX_BARREN_PAGES")
        if limit and depth > limit:
            self._counted(BARREN_STAT, "%s is page %d in a row %s: its links are not followed (%s = %d; this page "
                          "and any other such are counted as barren/pages_not_followed)",
                          response.url, depth, what, setting, limit)
            return None
        if budget and self.barren_pages >= budget:
            # The leashes count along one chain of links; a trap that branches has millions of short ones, and
            # never a review: a site's hubs (A-Z lists, film pages) lead to reviews, which start the count again.
            self._counted(BARREN_STAT, "%s: the links of %d pages in a row without reviews new to this run were "
                          "followed already: no more are until a page has one (REVIEWS_MAX_BARREN_PAGES = %d; "
                          "counted as barren/pages_not_followed)", response.url, self.barren_pages, budget)
            return None
        self.barren_pages += 1
        return {BARREN_DEPTH: barren, REPEAT_DEPTH: repeat}

    def _counted(self, stat: str, message: str, *args: Any) -> None:
        """Count one more under `stat`; the first is logged with `message`, the rest only counted."""
        counted(self.crawler.stats, stat, self.logger.warning, message, *args)  # type: ignore[attr-defined]

    def untrapped(self, urls: Iterable[str]) -> list[str]:
        """The links to follow of `urls`: not those shaped like a crawler trap (crawlers/url_traps.py), which are
        counted as traps/links_not_followed, the first logged."""
        kept = []
        for url in urls:
            reason = trap_shape(url)
            if reason is None:
                kept.append(url)
            else:
                self._counted(TRAP_STAT, "%s is not followed: %s looks like a crawler trap (this link and any other "
                              "such are counted as traps/links_not_followed)", url, reason)
        return kept

    def fresh_reviews(self, reviews: Iterable[Any]) -> bool:
        """Whether any of a page's reviews is new to this run (by its id, else a digest of its critic, film and
        text), noting them as met. An id that is only a place on the page it was found on (JSON-LD's `"@id":
        "#r0"`, read as `<page>#r0`) names no review: pagination clamped past its end, whose every page gave its
        reviews new ids of that kind, never ended (traps QA)."""
        keys = {r.source_review_id if r.source_review_id and not _on_page(r.source_review_id, r.page_url or r.url)
                else hashlib.md5(repr((r.critic_name, r.film_title, r.body)).encode()).digest() for r in reviews}
        fresh = not keys <= self.run_review_keys
        self.run_review_keys.update(keys)
        return fresh

    def stamp(self, item: Stamped, **extra: Any) -> Stamped:
        """Marks an item with this run; every extracted review (or unreadable block) passes here once."""
        self.crawler.stats.inc_value("reviews/extracted")  # type: ignore[attr-defined]
        item.source = self.source
        item.run_id = self.run_id
        item.fetched_at = datetime.now(UTC).isoformat(timespec="seconds")
        for key, value in extra.items():
            setattr(item, key, value)
        return item

