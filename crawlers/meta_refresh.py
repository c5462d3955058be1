"""A page that refreshes itself is read, not dropped.

A live or auto-refreshing page says `<meta http-equiv="refresh" content="60; url=<its own address>">`. Scrapy's
MetaRefreshMiddleware turns it into a redirect to that address, which the duplicate filter then drops as a page
already asked for: every review on such pages was lost, with no error and no warning (traps QA). A refresh to
any other address is still followed as a redirect.
"""

from __future__ import annotations

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse, Response
from scrapy.utils.response import get_meta_refresh
from w3lib.url import canonicalize_url


class SelfRefreshMiddleware(MetaRefreshMiddleware):
    """MetaRefreshMiddleware, except that a refresh to the page's own address (fragment, query order and
    escapes aside) gives the page to the spider."""

    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Request | Response:
        if isinstance(response, HtmlResponse):
            _, url = get_meta_refresh(response, ignore_tags=self._ignore_tags)
            if url and canonicalize_url(url) in {canonicalize_url(response.url), canonicalize_url(request.url)}:
                return response
        return super().process_response(request, response)
