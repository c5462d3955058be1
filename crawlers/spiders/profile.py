"""Site profile spider: crawls a site whose reviews a profile file describes (crawlers.profiles).

For sites that publish no schema.org markup or feed. Selectors on a site's visual HTML break when it is
redesigned, and then they usually match nothing rather than fail: every page where the `reviews`
selector matched nothing is counted as `reviews/profile_empty_pages`, and the run's falling yield is
what the health check flags.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import Response

from crawlers.items import RefusedReview
from crawlers.profile_pages import extract_with_profile
from crawlers.profiles import load_profile
from crawlers.spiders.base import ReviewSpiderMixin, is_html
from crawlers.spiders.clashes import IdClashes

EMPTY_PAGES = "reviews/profile_empty_pages"


class ProfileSpider(ReviewSpiderMixin, scrapy.Spider):
    """Arguments: `profile` (path to the site's TOML file, required), `url` (start URLs; else the profile's
    `start_urls`), `source` (else the profile file's name), `run_id`, `state` and `full` (incremental runs)."""

    name = "profile"

    def __init__(self, url: str | None = None, source: str | None = None, run_id: str | None = None,
                 profile: str | None = None, state: str | None = None, full: str = "false", **kwargs: Any):
        super().__init__(**kwargs)
        if not profile:
            raise ValueError("spider 'profile' needs a site profile: -a profile=path/to/site.toml")
        self.profile = load_profile(profile)
        self.start_urls = list(self.profile.start_urls)
        self.date_order = self.profile.date_order  # into the run's stats, for the load (flows/load.py date_order)
        self.init_run(url, source or Path(profile).stem, run_id)
        self.init_incremental(state, full)
        self.clashes = IdClashes("this site's ids look unique per page only; select a site-wide id as "
                                 "source_review_id in the profile, or none")

    def parse(self, response: Response, **kwargs: Any) -> Iterable[Any]:
        # A followed link may answer JSON, plain text or an image: a profile reads HTML pages only.
        if not is_html(response):
            return
        if not self.follows_redirected_start(response):
            return
        page = extract_with_profile(response.text, response.url, self.source, self.profile)
        for error in page.errors:
            self.crawler.stats.inc_value("reviews/extract_errors")
            self.logger.warning("%s: %s", response.url, error)
        if not page.reviews:
            self.crawler.stats.inc_value(EMPTY_PAGES)
        for item in page.reviews:
            clash = self.clashes.reason(item)
            yield self.stamp(item) if clash is None else RefusedReview(self.stamp(item), clash)
        links = self.untrapped(link for link in page.next_pages + page.follow if self.on_site(link))
        self.meet_page(response)
        if self.all_known(page.site_ids, links):  # a key made from a url says nothing of whether a review is known
            return
        # A page without reviews still gives its links (an index of films leads to their review pages),
        # but only so many such pages in a row: follow_meta stops a trap.
        meta = self.follow_meta(response, page.reviews)
        if meta is None:
            return
        self.meet(*links)
        for link in links:
            yield response.follow(link, callback=self.parse, meta=meta)
