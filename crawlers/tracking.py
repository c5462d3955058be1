"""Campaign and click-tracking parameters (`utm_source`, `fbclid`, …) and session ids (`;jsessionid=`,
`PHPSESSID`, …) are dropped from the URLs a crawl fetches and lands.

A feed or a newsletter tags its links (`?utm_source=feed&utm_medium=rss`), so one review page reached from the
feed and from the site's own listing was fetched twice, landed under two keys (a key is often the page's url)
and kept both addresses in the review's `urls`, a new one for every campaign. Only parameters that identify a
visit, never the page, are dropped; any other part of the URL is left as it was written. A session id in every
link is worse: each run meets every review under a new address, so a review without an id of its own (keyed by
its page) was a new review every week, and its edits were never applied (traps QA).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from itemadapter import ItemAdapter
from scrapy import Request, Spider
from w3lib.url import canonicalize_url, url_query_cleaner

# Google Analytics' utm_* family is matched by its prefix; the others are the click ids of ad and mail
# platforms (Facebook, Google Ads, Microsoft, Mailchimp, Yandex, Instagram, HubSpot, Marketo, X, TikTok).
_PREFIXES = ("utm_",)
_NAMES = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "yclid", "igshid",
    "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "twclid", "ttclid", "ref_src",
})
# Session ids as servers put them in links (Java, PHP, ColdFusion, and the names crawlers such as Nutch strip), as
# query parameters and as path parameters (`/review/3;jsessionid=A1B2`). `sid` alone is only a session id when it
# looks like one, 16 or more letters and digits, both (PHP's are 26 to 32, Java's 32): `?sid=12`, `?sid=tt0111161`
# and `?sid=review2024` may be the page's own id.
_SESSIONS = frozenset({"jsessionid", "phpsessid", "sessionid", "session_id", "cfid", "cftoken"})
_SESSION_LIKE = re.compile(r"(?=[0-9a-z_-]*[a-z])(?=[0-9a-z_-]*[0-9])[0-9a-z_-]{16,}", re.IGNORECASE)
_PATH_SESSION = re.compile(r";(jsessionid|phpsessid|sessionid|sid)=([^/?#;]*)", re.IGNORECASE)
# A url that may hold one of them, for SQL to find stored urls and keys by (a superset: without_tracking decides).
MAYBE_TAGGED = r"[?&;](" + "|".join(re.escape(name) for name in sorted({*_PREFIXES, *_NAMES, *_SESSIONS, "sid"})) + ")"
# Item fields that hold a page address (source_review_id too, when the page's url is the review's key).
URL_FIELDS = ("url", "page_url", "critic_url", "source_review_id")


def _tracking(name: str, value: str) -> bool:
    name = name.lower()
    return (name in _NAMES or name.startswith(_PREFIXES) or name in _SESSIONS
            or (name == "sid" and _SESSION_LIKE.fullmatch(value) is not None))


def without_tracking(url: str) -> str:
    """The URL without tracking parameters and session ids; any other URL, or one that cannot be parsed, as it
    was."""
    if ";" in url:
        url = _without_path_sessions(url)
    if "?" not in url:
        return url
    try:
        query = urlsplit(url).query
    except ValueError:
        return url
    found = [name for name, value in parse_qsl(query, keep_blank_values=True) if _tracking(name, value)]
    if not found:
        return url
    # unique=False keeps a repeated parameter the page needs (?genre=a&genre=b); the fragment stays (keys
    # of reviews without ids of their own end in #critic|film).
    return url_query_cleaner(url, found, remove=True, unique=False, keep_fragments=True)


def _kept_path_sid(found: re.Match[str]) -> bool:
    return found[1].lower() == "sid" and _SESSION_LIKE.fullmatch(found[2]) is None


def _without_path_sessions(url: str) -> str:
    # Only in the path: a ";" in the query or the fragment (a key's #critic|film) is the site's own text.
    end = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=len(url))
    path = _PATH_SESSION.sub(lambda m: m[0] if _kept_path_sid(m) else "", url[:end])
    return path + url[end:] if len(path) != end else url


class TrackingParamsMiddleware:
    """Downloader middleware: a request for a tagged URL is rescheduled for the URL without its tags, so the
    duplicate filter sees one page however many campaigns link to it."""

    def process_request(self, request: Request, spider: Spider | None = None) -> Request | None:
        clean = without_tracking(request.url)
        if clean == request.url:
            return None
        # A redirect to the page's own address with a session id (Java's first answer: /r/1 -> /r/1;jsessionid=X)
        # comes back to an address its chain has been through: let through the duplicate filter, or the page was
        # dropped as one already asked for, without an error (review of the session change).
        return request.replace(url=clean, dont_filter=request.dont_filter or back_in_chain(clean, request))


def same_page(url: str) -> str:
    """A url as redirects compare them: canonical (fragment, query order, escapes aside), without tracking
    parameters and session ids."""
    return canonicalize_url(without_tracking(url))


def back_in_chain(url: str, request: Request, *also: str) -> bool:
    """Whether `url` is a page the redirect chain of `request` (or `also`) has been through, as same_page
    compares them."""
    return same_page(url) in {same_page(hop) for hop in (*request.meta.get("redirect_urls", ()), *also)}


class TrackingParamsPipeline:
    """Item pipeline: a review's addresses without tracking parameters, before the in-run repeat filter keys it
    (a permalink on the page may carry the tags the request did not)."""

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        for name in URL_FIELDS:
            value = adapter.get(name)
            if isinstance(value, str) and value:
                adapter[name] = without_tracking(value)
        return item
