"""Which site a URL belongs to: its registrable domain, read from the Public Suffix List snapshot that tldextract
ships (Scrapy's own dependency), never fetched. Crawls of one site take turns (flows/parallel.py), and a start
URL may redirect within its site but not to another (crawlers/spiders/base.py)."""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlsplit


@cache
def _site_splitter() -> Any:
    from tldextract import TLDExtract

    # The bundled snapshot only: no download (runs may be offline) and no cache file written. Private
    # suffixes count, as in Scrapy's cookie handling, so two blogs on blogspot.com are two sites.
    return TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def site_of(url: str) -> str:
    """The site a URL belongs to: its registrable domain (`feeds.example.com` -> `example.com`), lower-case;
    where there is none (an IP address, `localhost`, a name off the Public Suffix List) the host without
    `www.`."""
    host = (urlsplit(url).hostname or url).lower()
    # Off the list (an intranet's `reviews.internal`, `.test`, `.local`): `www.` still names the bare domain.
    return _site_splitter()(host).top_domain_under_public_suffix or host.removeprefix("www.")
