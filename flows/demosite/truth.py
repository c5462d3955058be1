"""Ground truth: one JSON object per published review entry, written as JSONL.

Fields: identifier, film_key, film_title (clean), film_year, imdb_id, critic_key (the true person,
"c007"/"u00042"), critic_name, outlet (null for users), audience ("critic"|"user"), rating_raw (as
displayed, null when unrated), score (0-100 or null, see ``ratings``), is_positive (null when
unrated), title (clean), title_published, body (clean: entities decoded, mojibake repaired, hostile
strings verbatim), body_published (exact string in the page), published_on (ISO date),
date_displayed (as shown; relative forms depend on ``DemoSite.now``), language, has_language
(whether inLanguage is published), syndication_group, url_path (``/review/<id>/``), pages (paths
carrying the entry as structured data: film page, person page, and ``/feed.xml`` when in the feed).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

from .site import DemoSite, Review


def truth_record(site: DemoSite, rv: Review) -> dict:
    r = rv.rating
    return {
        "identifier": rv.identifier,
        "film_key": rv.film.key,
        "film_title": rv.film.title,
        "film_year": rv.film.year,
        "imdb_id": rv.film.imdb_id,
        "critic_key": rv.person.key,
        "critic_name": rv.person.name,
        "outlet": rv.outlet,
        "audience": rv.audience,
        "rating_raw": r.displayed if r else None,
        "score": r.score if r else None,
        "is_positive": r.is_positive if r else None,
        "title": rv.title,
        "title_published": rv.title_published,
        "body": rv.body,
        "body_published": rv.body_published,
        "published_on": rv.published_on.isoformat(),
        "date_displayed": rv.date_displayed,
        "language": rv.language,
        "has_language": rv.has_language,
        "syndication_group": rv.syndication_group,
        "url_path": rv.path,
        "pages": site.pages_of(rv.index),
    }


def iter_truth(site: DemoSite) -> Iterator[dict]:
    for rv in site.iter_reviews():
        yield truth_record(site, rv)


def write_truth(site: DemoSite, path: str | os.PathLike[str]) -> int:
    """Write the JSONL ground truth; returns the number of lines written."""
    n = 0
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for rec in iter_truth(site):
            fh.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
    return n
