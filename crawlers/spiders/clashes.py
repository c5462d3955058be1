"""Review ids a site reuses for different reviews: HTML ids unique per page only (`id="c1"` on every film page),
a feed's `<guid>1</guid>` unique per feed only. A review landing under another's id would be dropped as a repeat
of it in the crawl, or read as its edit by the load; such items go to the run's rejects with a reason instead, so
a source keyed by local ids is seen, not silently thinned."""

from __future__ import annotations

from crawlers.items import ReviewItem
from crawlers.title_years import YEAR_SUFFIX


class IdClashes:
    """Whose review of which film each id has named so far in this crawl."""

    def __init__(self, advice: str) -> None:
        self.advice = advice  # what the user can do about it, ending the reason
        self.seen: dict[str, tuple[str | None, str | None]] = {}

    def reason(self, item: ReviewItem) -> str | None:
        """Why `item` cannot land under its id: the id named another critic's review or another film earlier."""
        if not item.source_review_id:
            return None
        if item.source_review_id not in self.seen:
            if item.critic_name and item.film_title:  # an item validation will refuse names nothing yet
                self.seen[item.source_review_id] = (item.critic_name, item.film_title)
            return None
        critic, film = self.seen[item.source_review_id]
        # The same review again (on its film's page and its critic's) may name its film another way
        # ("Her (2013)") or leave out what that page shows elsewhere: only two names that differ clash.
        if _alike(critic, item.critic_name) and _alike(film, item.film_title):
            return None
        return (f"review id {item.source_review_id!r} already named {critic!r}'s review of {film!r} in this crawl, "
                f"here {item.critic_name!r}'s of {item.film_title!r}: {self.advice}")


def _alike(known: str | None, found: str | None) -> bool:
    """Whether two names may be one: either missing, or equal but for case, spacing and a trailing "(2013)" or
    "[2013]", read as the normalizer reads a title's year (crawlers/title_years.py: a second rule here took
    "Her [2013]" and "Her" for two films, and refused the review's second copy; style audit)."""
    if not known or not found:
        return True
    return _folded(known) == _folded(found)


def _folded(name: str) -> str:
    return " ".join(YEAR_SUFFIX.sub("", name).split()).casefold()
