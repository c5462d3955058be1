"""robots.txt, sitemaps and the RSS 2.0 feed.

Feed namespaces
---------------
* ``dc`` (``http://purl.org/dc/elements/1.1/``): ``dc:creator`` = review author's name.
* ``rev`` (``http://purl.org/stuff/rev#``): ``rev:rating``, ``rev:maxRating``, ``rev:minRating``,
  only for numeric scales (x/10, x/5, x/4, x/100).
* ``film`` (``FILM_NS`` below), defined by this demo site, one of each per ``<item>``:
  ``film:title`` (clean film title), ``film:year``, ``film:imdbId`` (omitted when the film has no
  IMDb id), ``film:reviewTitle`` (the review's own title, may be empty: RSS ``<title>`` falls back
  to "Review of <film> by <author>" when it is), ``film:ratingDisplayed`` (rating as displayed, e.g.
  "★★★½", "B+", "Fresh"; omitted when unrated), ``film:outlet`` (critics only),
  ``film:language`` (omitted when the entry has no inLanguage).

``<description>`` holds an HTML fragment (``<p>`` per paragraph, text HTML-escaped) which is then
XML-escaped, so the body text survives feed sanitisers verbatim.
"""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime
from xml.sax.saxutils import escape as x

from .pages import paragraphs
from .site import LAST_MODIFIED, DemoSite

FILM_NS = "https://demo-film-reviews.invalid/ns/film#"
REV_NS = "http://purl.org/stuff/rev#"


def robots_txt(base: str) -> str:
    return f"User-agent: *\nDisallow: /search\n\nSitemap: {base}/sitemap.xml\n"


def _urlset(urls: list[str]) -> str:
    lastmod = LAST_MODIFIED.date().isoformat()
    body = "".join(f"<url><loc>{x(u)}</loc><lastmod>{lastmod}</lastmod></url>\n" for u in urls)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{body}</urlset>\n')


def sitemap_index(base: str) -> str:
    lastmod = LAST_MODIFIED.date().isoformat()
    maps = "".join(f"<sitemap><loc>{base}/{name}</loc><lastmod>{lastmod}</lastmod></sitemap>\n"
                   for name in ("sitemap-films.xml", "sitemap-people.xml"))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{maps}</sitemapindex>\n')


def sitemap_films(site: DemoSite, base: str) -> str:
    return _urlset([f"{base}/film/{f.slug}/" for f in site.films])


def sitemap_people(site: DemoSite, base: str) -> str:
    return _urlset([f"{base}{p.path}" for p in site.people if len(site.person_review_indices(p))])


def rss_feed(site: DemoSite, base: str) -> str:
    items = []
    for i in site.feed_indices():
        rv = site.review(i)
        film = rv.film
        when = dt.datetime.combine(rv.published_on, dt.time(i * 7 % 24), tzinfo=dt.UTC)
        title = rv.title_published or f"Review of {film.title} by {rv.person.name}"
        parts = [
            f"<title>{x(title)}</title>",
            f"<link>{base}{rv.path}</link>",
            f'<guid isPermaLink="false">{rv.identifier}</guid>',
            f"<pubDate>{format_datetime(when)}</pubDate>",
            f"<dc:creator>{x(rv.person.name)}</dc:creator>",
            f"<description>{x(paragraphs(rv.body_published))}</description>",
        ]
        r = rv.rating
        if r and r.numeric:
            parts += [f"<rev:rating>{r.value}</rev:rating>", f"<rev:maxRating>{r.best}</rev:maxRating>",
                      f"<rev:minRating>{r.worst}</rev:minRating>"]
        parts += [f"<film:title>{x(film.title)}</film:title>", f"<film:year>{film.year}</film:year>"]
        if film.imdb_id:
            parts.append(f"<film:imdbId>{film.imdb_id}</film:imdbId>")
        parts.append(f"<film:reviewTitle>{x(rv.title_published)}</film:reviewTitle>")
        if r:
            parts.append(f"<film:ratingDisplayed>{x(r.displayed)}</film:ratingDisplayed>")
        if rv.outlet:
            parts.append(f"<film:outlet>{x(rv.outlet)}</film:outlet>")
        if rv.has_language:
            parts.append(f"<film:language>{rv.language}</film:language>")
        items.append("<item>\n" + "\n".join(parts) + "\n</item>")
    built = format_datetime(LAST_MODIFIED)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        f'xmlns:rev="{REV_NS}" xmlns:film="{FILM_NS}" xmlns:atom="http://www.w3.org/2005/Atom">\n'
        "<channel>\n<title>Demo Film Reviews: latest reviews</title>\n"
        f"<link>{base}/</link>\n<description>The latest {len(items)} reviews</description>\n"
        f'<atom:link href="{base}/feed.xml" rel="self" type="application/rss+xml"/>\n'
        f"<lastBuildDate>{built}</lastBuildDate>\n" + "\n".join(items) + "\n</channel>\n</rss>\n"
    )


__all__ = ["FILM_NS", "REV_NS", "robots_txt", "rss_feed", "sitemap_films", "sitemap_index", "sitemap_people"]
