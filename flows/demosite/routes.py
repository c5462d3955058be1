"""URL dispatch: request target -> (status, content type, body bytes, ETag).

URL scheme (all pages are generated from the seed on request):

=====================================  ====================================================
``/robots.txt``                        disallows ``/search``, points at ``/sitemap.xml``
``/sitemap.xml``                       sitemap index -> ``/sitemap-films.xml``, ``/sitemap-people.xml``
``/``                                  home
``/films/?page=N``                     film list, 20 per page
``/critics/``, ``/users/?page=N``      people lists (100 per page)
``/film/<slug>/``                      film page 1: JSON-LD Movie + first 20 reviews
``/film/<slug>/reviews/page/N/``       film review pages N >= 2 (JSON-LD for that slice)
``/critic/<slug>/?page=N``             critic's reviews in microdata, 20 per page
``/user/<slug>/?page=N``               user's reviews in RDFa Lite, 20 per page
``/review/<identifier>/``              permalink page (plain HTML, no structured data)
``/feed.xml``                          RSS 2.0, latest 50 reviews
``/search?q=...``                      search results (disallowed by robots.txt)
=====================================  ====================================================
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from . import feeds, pages
from .site import DemoSite

FILM_RE = re.compile(r"^/film/([^/]+)/(?:reviews/page/(\d+)/)?$")
PERSON_RE = re.compile(r"^/(critic|user)/([^/]+)/$")
REVIEW_RE = re.compile(r"^/review/(r\d{6})/$")
HTML = "text/html; charset=utf-8"
USERS_PER_PAGE = 100
FILMS_PER_PAGE = 20


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes
    etag: str | None

    @classmethod
    def ok(cls, text: str, content_type: str = HTML, charset: str = "utf-8") -> Response:
        # windows-1252 pages fall back to numeric character references for anything unmappable.
        body = text.encode(charset, errors="xmlcharrefreplace")
        return cls(200, content_type, body, '"' + hashlib.sha1(body).hexdigest()[:20] + '"')


NOT_FOUND = Response(404, HTML, b"<!DOCTYPE html><title>Not found</title><h1>404 Not Found</h1>\n", None)


def _page(query: dict[str, list[str]]) -> int | None:
    raw = query.get("page", ["1"])[-1]
    return int(raw) if raw.isdigit() else None


def respond(site: DemoSite, base: str, target: str) -> Response:
    """Render the page for a request target (path + query).  ``base`` has no trailing slash."""
    parts = urlsplit(target)
    path, query = parts.path, parse_qs(parts.query)
    text: str | None = None
    if path == "/robots.txt":
        return Response.ok(feeds.robots_txt(base), "text/plain; charset=utf-8")
    if path == "/sitemap.xml":
        return Response.ok(feeds.sitemap_index(base), "application/xml")
    if path == "/sitemap-films.xml":
        return Response.ok(feeds.sitemap_films(site, base), "application/xml")
    if path == "/sitemap-people.xml":
        return Response.ok(feeds.sitemap_people(site, base), "application/xml")
    if path == "/feed.xml":
        return Response.ok(feeds.rss_feed(site, base), "application/rss+xml; charset=utf-8")
    if path == "/":
        text = pages.home_page(site)
    elif path == "/search":
        text = pages.search_page(site, query.get("q", [""])[-1])
    elif path in ("/films/", "/critics/", "/users/"):
        page = _page(query)
        if page is not None:
            text = _list(site, path, page)
    elif m := FILM_RE.match(path):
        film = site.film_by_slug(m.group(1))
        n = int(m.group(2)) if m.group(2) else 1
        # /reviews/page/1/ is not a real URL: page 1 lives at the film's own path.
        if film is not None and not (m.group(2) and n == 1):
            text = _variant(site, pages.film_page(site, film, n, base))
    elif m := PERSON_RE.match(path):
        person = site.person_by_path(path)
        page = _page(query)
        if person is not None and page is not None:
            text = _variant(site, pages.person_page(site, person, page, base))
            if text is not None:
                return Response.ok(text, f"text/html; charset={person.charset}", person.charset)
    elif m := REVIEW_RE.match(path):
        rv = site.review_by_identifier(m.group(1))
        if rv is not None:
            text = pages.review_page(rv)
    return NOT_FOUND if text is None else Response.ok(text)


_JSONLD = re.compile(r'<script type="application/ld\+json">.*?</script>', re.S)
_STRUCTURED_ATTR = re.compile(r'\s(?:itemscope|itemprop="[^"]*"|itemtype="[^"]*"|typeof="[^"]*"|property="[^"]*"'
                              r'|vocab="[^"]*")')


def _variant(site: DemoSite, text: str | None) -> str | None:
    """The "redesigned" variant: same reviews, but the relaunch dropped all schema.org markup, the
    silent breakage the health check exists for."""
    if text is None or site.variant != "redesigned":
        return text
    return _STRUCTURED_ATTR.sub("", _JSONLD.sub("", text))


def _list(site: DemoSite, path: str, page: int) -> str | None:
    if path == "/films/":
        films = site.films
        last = max(1, -(-len(films) // FILMS_PER_PAGE))
        chunk = films[(page - 1) * FILMS_PER_PAGE: page * FILMS_PER_PAGE]
        items = [(f"/film/{f.slug}/", f"{f.title} ({f.year})") for f in chunk]
        return pages.list_page("Films", items, page, last, path)
    if path == "/critics/":
        items = [(p.path, f"{p.name} ({p.outlets[0]})") for p in site.critics]
        return pages.list_page("Critics", items, page, 1, path)
    users = [u for u in site.users if len(site.person_review_indices(u))]
    last = max(1, -(-len(users) // USERS_PER_PAGE))
    chunk = users[(page - 1) * USERS_PER_PAGE: page * USERS_PER_PAGE]
    return pages.list_page("Members", [(u.path, u.name) for u in chunk], page, last, path)
