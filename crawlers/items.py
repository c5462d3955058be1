"""The raw review item: fields exactly as a page published them.

Spiders only extract. Every cleaning step (scores, dates, text repair, film and critic
resolution) happens later in `flows.normalize`, so the landing zone keeps what the site
said and a better normalizer can always be re-run over it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

AUDIENCES = ("critic", "user")
# The orders of day and month a source may be known to write numeric dates in (a run's stats `date_order`:
# an import's or a site profile's), as flows/normalize/dates.py reads them.
DATE_ORDERS = ("DMY", "MDY")


@dataclass
class ReviewItem:
    source: str
    url: str
    source_review_id: str | None = None
    film_title: str | None = None
    film_year: str | None = None
    external_ids: dict[str, str] = field(default_factory=dict)
    critic_name: str | None = None
    critic_url: str | None = None
    # The names of a review's further authors, in the page's order (the critic is its first author). Only
    # in the landing zone: the flows read named columns and leave it out, since a review has one critic.
    co_authors: list[str] = field(default_factory=list)
    outlet: str | None = None
    audience: str | None = None
    rating_raw: str | None = None
    rating_value: str | None = None
    rating_best: str | None = None
    rating_worst: str | None = None
    # A dump's other rating cells, where it has several (a score and a Fresh/Rotten verdict) and rating_raw
    # holds one of them (flows/importer.py). Only in the landing zone, as co_authors.
    other_ratings: list[str] = field(default_factory=list)
    review_title: str | None = None
    body: str | None = None
    published_raw: str | None = None
    language_declared: str | None = None
    fetched_at: str | None = None
    run_id: str | None = None
    page_url: str | None = None
    syntax: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class UnreadableMarkup:
    """Markup that may have held reviews but could not be read: a JSON-LD block with a syntax error,
    a feed or page no parser accepts. Not a review, so it never lands; the pipeline writes it to the
    run's rejects with its reason and its text as published, so a broken page is counted and seen."""

    source: str
    url: str
    reason: str
    text: str | None = None
    fetched_at: str | None = None
    run_id: str | None = None


@dataclass
class RefusedReview:
    """A review the spider read but must not land, and why: its site id already named another review in this
    crawl (crawlers/spiders/profile.py). The pipeline writes it to the run's rejects with that reason, as it
    would a review the loader could not use, so the run's counts still hold every item."""

    review: ReviewItem
    reason: str
