"""Redirects that come back to where they started, and pages that refresh themselves.

A redirect chain that returns to an address it has been through (A -> B -> A) was dropped by Scrapy's duplicate
filter as a page already asked for: without an error, so a start page caught in such a loop gave a run of no
pages that was not judged, and a loop that sets a cookie before it answers (A -> B, which sets it -> A) lost
its page. Such a hop is let through the duplicate filter: the page answers, or the loop ends at
REDIRECT_MAX_TIMES as "max redirections reached", a dropped request the run counts (traps QA).

A live or auto-refreshing page says `<meta http-equiv="refresh" content="60; url=<its own address>">`. Scrapy's
MetaRefreshMiddleware turns it into a redirect to that address, which the duplicate filter then drops: every
review on such pages was lost, with no error and no warning (traps QA). Such a page is read; a refresh to any
other address is still followed as a redirect.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.http import HtmlResponse, Response
from scrapy.utils.response import get_meta_refresh

from crawlers.tracking import back_in_chain, same_page

# The dont_filter the first request of a redirect chain was asked with.
_ASKED_DONT_FILTER = "redirect_asked_dont_filter"


class _LoopsCounted:
    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        asked = request.meta.setdefault(_ASKED_DONT_FILTER, request.dont_filter)
        followed: Request = super()._redirect(redirected, request, reason)  # type: ignore[misc]
        # Only this hop: Scrapy copies dont_filter to every later one, and a dont_filter request passes the
        # offsite check too, so a hop to another host after a loop was fetched as this site's (review).
        followed.dont_filter = asked or back_in_chain(followed.url, request, request.url)
        followed.meta[_ASKED_DONT_FILTER] = asked
        return followed


class LoopAwareRedirectMiddleware(_LoopsCounted, RedirectMiddleware):
    """RedirectMiddleware, with a hop back into its own chain (tracking parameters and session ids aside) let
    through the duplicate filter."""


class SelfRefreshMiddleware(_LoopsCounted, MetaRefreshMiddleware):
    """MetaRefreshMiddleware, except that a refresh to the page's own address (fragment, query order and
    escapes aside) gives the page to the spider."""

    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Request | Response:
        if isinstance(response, HtmlResponse):
            _, url = get_meta_refresh(response, ignore_tags=self._ignore_tags)
            if url and same_page(url) in {same_page(response.url), same_page(request.url)}:
                return response
        return super().process_response(request, response)
