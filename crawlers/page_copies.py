"""Copies of one review on one page: a template's excerpt beside the full text, the same review in two markups,
an anonymous review shown twice. Each copy would land as a review of its own; these find them."""

from __future__ import annotations

import html
import re
from collections import defaultdict

from crawlers.items import ReviewItem
from crawlers.nobody import names_nobody

# What a template adds to an excerpt of a review: an ellipsis, "[…]", "Read more", "Continue reading".
_EXCERPT_TAIL = re.compile(r"(?:readmore|continuereading|readthefullreview|readfullreview)+$")
_TAG = re.compile(r"<[^>]*>")  # only to compare two copies' letters, never to store a text: no parser needed
_NOT_WORD = re.compile(r"[\W_]+")
# Two bodies that agree on this many letters and digits from their start are one review's (a template's
# excerpt of it, or a copy with other markup); two reviews of one film by one critic do not open alike so long.
_SAME_OPENING = 80


def comparable_body(body: str | None) -> str:
    """A body as copies of one review are compared: its letters and digits only, lower-cased, without markup,
    entities or what a template adds to an excerpt (so `<p>Tender &amp; moving</p>` and `Tender & moving…
    Read more` compare equal as far as both go)."""
    text = _NOT_WORD.sub("", html.unescape(_TAG.sub(" ", body or "")).casefold())
    return _EXCERPT_TAIL.sub("", text)


def same_body(one: str, other: str) -> bool:
    """Whether two bodies (as comparable_body gives them) can be one review's: one a start of the other (a
    template's excerpt beside the full text; one missing: a rating shown twice), or opening alike."""
    return one.startswith(other) or other.startswith(one) or (
        len(one) >= _SAME_OPENING and one[:_SAME_OPENING] == other[:_SAME_OPENING])


def _without_anonymous_copies(reviews: list[ReviewItem]) -> list[ReviewItem]:
    """The page's reviews without the second copies of an anonymous one (an id-less review signed by nobody,
    crawlers/nobody.py). Such a review has no author to tell it apart, so the flows key it by its text
    (flows/normalize/assemble.py SOURCE_KEY), and each copy would land as a review: one review shown as an
    excerpt beside its full text, in other markup, or without its text. Copies share critic, film and year and
    the rating (or one has none), and have bodies that are one review's (same_body) or one has none; the fullest
    copy stays, the reviews in page order."""
    # Only those reviews, each body made comparable once: most pages have none, and this runs on every page.
    bodies = {index: comparable_body(review.body) for index, review in enumerate(reviews)
              if not review.source_review_id and names_nobody(review.critic_name, review.outlet)}
    if len(bodies) < 2:
        return reviews
    copies: set[int] = set()
    groups: dict[tuple[str | None, ...], list[tuple[ReviewItem, str]]] = defaultdict(list)
    for index in sorted(bodies, key=lambda i: -len(bodies[i])):  # the fullest first
        review, body = reviews[index], bodies[index]
        kept = groups[(review.critic_name, review.film_title, review.film_year)]
        rating = review.rating_raw
        if any((same_body(seen, body) and (not rating or not other.rating_raw or other.rating_raw == rating))
               if body and seen else (not body and bool(rating) and other.rating_raw == rating)
               for other, seen in kept):
            copies.add(index)
        else:
            kept.append((review, body))
    return [review for index, review in enumerate(reviews) if index not in copies]


def _without_markup_copies(reviews: list[ReviewItem]) -> list[ReviewItem]:
    """The page's reviews without an id-less second copy, in another markup, of one named review: JSON-LD with
    the review's url and publisher, and microdata with neither, landed one review twice, the second under a
    critic without the outlet (site QA). A copy names the same critic and film, has a body that is that
    review's (same_body) and the same rating or none; the copy with an id, else the one with more fields, stays,
    given the other's rating if it has none."""
    if len({review.syntax for review in reviews}) < 2:
        return reviews
    bodies = [comparable_body(review.body) for review in reviews]
    copies: set[int] = set()
    for index, review in enumerate(reviews):
        if review.source_review_id or not review.critic_name or not bodies[index]:
            continue
        for other_index, other in enumerate(reviews):
            if (other_index in copies or other.syntax == review.syntax or not bodies[other_index]
                    or _folded(other.critic_name) != _folded(review.critic_name)
                    or _folded(other.film_title) != _folded(review.film_title)
                    or not _same_rating(review, other)
                    or not same_body(bodies[index], bodies[other_index])):
                continue
            if other.source_review_id or _filled(other) >= _filled(review):
                copies.add(index)
                if other.rating_raw is None and review.rating_raw is not None:  # the copy's rating is the review's
                    for name in _RATING_FIELDS:
                        setattr(other, name, getattr(review, name))
                break
    return [review for index, review in enumerate(reviews) if index not in copies]


_RATING_FIELDS = ("rating_raw", "rating_value", "rating_best", "rating_worst")
# A rating written as a number, with or without its scale: "4", "4/5", "4 out of 5", "3,5 / 5".
_FIGURES = re.compile(r"(\d+(?:[.,]\d+)?)(?:\s*(?:/|out of|of)\s*(\d+(?:[.,]\d+)?))?", re.IGNORECASE)


def _figures(review: ReviewItem) -> tuple[float, float] | None:
    match = _FIGURES.fullmatch((review.rating_raw or "").strip())
    if match is None:
        return None
    # No scale given is schema.org's default, 5: a bare 4 is not the 4/10 of another markup (review).
    best = match.group(2) or review.rating_best or "5"
    try:
        return float(match.group(1).replace(",", ".")), float(str(best).replace(",", "."))
    except ValueError:
        return None


def _same_rating(one: ReviewItem, other: ReviewItem) -> bool:
    """Whether two copies' ratings can be one: equal as written, one missing, or the same number on the same
    scale, given or schema.org's 5 (JSON-LD's `4` with bestRating 5 or none, and microdata's `4/5`; site QA)."""
    if not one.rating_raw or not other.rating_raw or one.rating_raw == other.rating_raw:
        return True
    figures, others = _figures(one), _figures(other)
    return figures is not None and figures == others


def _folded(name: str | None) -> str:
    return " ".join((name or "").split()).casefold()


def _filled(review: ReviewItem) -> int:
    return sum(1 for value in review.to_dict().values() if value not in (None, "", [], {}))




def without_copies(reviews: list[ReviewItem]) -> list[ReviewItem]:
    """The page's reviews, in page order, without the copies of one review these rules find."""
    return _without_markup_copies(_without_anonymous_copies(reviews))
