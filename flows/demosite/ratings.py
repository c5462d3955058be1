"""Rating scales used by the demo site and how each one is published.

Every critic has one habitual scale; users either rate on one of a few scales or not at all.
The rating is always shown *as displayed* in the visible HTML (``<span class="rating">``) and in
the ground truth (``rating_raw``).  In structured data (JSON-LD ``reviewRating``, microdata and
RDFa ``Rating``) the forms are:

===============  ===================  =========================================================
scale code       displayed            structured ``Rating``
===============  ===================  =========================================================
``ten``          ``7/10``, ``7.5/10``  ratingValue 7.5 (number), bestRating 10, worstRating 0
``five``         ``3.5/5``             ratingValue 3.5, bestRating 5, worstRating 0
``four``         ``3.5/4``             ratingValue 3.5, bestRating 4, worstRating 0
``four_frac``    ``3½/4``, ``½/4``     ratingValue 3.5, bestRating 4, worstRating 0
``hundred``      ``72/100``            ratingValue 72, bestRating 100, worstRating 0
``stars_half``   ``★★★½``              ratingValue "★★★½" (text only, no best/worst)
``stars_slots``  ``★★★☆☆``             ratingValue "★★★☆☆" (text only, no best/worst)
``letter``       ``B+``, ``A-``, ``F``  ratingValue "B+" (text only, no best/worst)
``fresh``        ``Fresh``/``Rotten``  ratingValue "Fresh" (text only, no best/worst)
``thumbs``       ``Thumbs up``/``…``   ratingValue "Thumbs up"/"Thumbs down" (text only)
===============  ===================  =========================================================

Unrated reviews carry no ``reviewRating`` at all.  In JSON-LD numeric values are JSON numbers
(integers when whole); in microdata/RDFa they are ``content`` attributes of ``<meta>``.

Ground-truth ``score`` is 0-100: ``x/N`` scales map linearly with worst 0 (3.5/4 -> 87.5,
8/10 -> 80); glyph stars map like ``x/5``; letters use equal steps (see ``LETTER_SCORES``);
fresh/rotten and thumbs have no score (``None``) but do have ``is_positive``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

NUMERIC_BEST: dict[str, int] = {"ten": 10, "five": 5, "four": 4, "four_frac": 4, "hundred": 100}

# Equal steps of 100/12 between F and A; A+ saturates at 100 like A (the design's rule).
LETTER_SCORES: dict[str, float] = {
    "A+": 100.0, "A": 100.0, "A-": 91.67, "B+": 83.33, "B": 75.0, "B-": 66.67, "C+": 58.33,
    "C": 50.0, "C-": 41.67, "D+": 33.33, "D": 25.0, "D-": 16.67, "F": 0.0,
}
POSITIVE_THRESHOLD = 60.0


@dataclass(frozen=True)
class Rating:
    scale: str
    displayed: str
    value: float | int | str  # what goes into ratingValue
    best: int | None
    worst: int | None
    score: float | None
    is_positive: bool

    @property
    def numeric(self) -> bool:
        return self.best is not None


def _num(v: float) -> float | int:
    # Whole numbers are published as integers ("7/10", ratingValue 7) like real sites do.
    return int(v) if float(v).is_integer() else v


def _fmt(v: float) -> str:
    return str(_num(v))


def _halves(latent: int, best: int) -> float:
    return round(latent / 100 * best * 2) / 2


def _letter(latent: int) -> str:
    if latent >= 97:
        return "A+"
    best = min(
        (g for g in LETTER_SCORES if g != "A+"),
        key=lambda g: (abs(LETTER_SCORES[g] - latent), -LETTER_SCORES[g]),
    )
    return best


@lru_cache(maxsize=2048)  # only |scales| x 101 distinct inputs; Rating is immutable
def make_rating(scale: str, latent: int) -> Rating:
    """Turn a latent 0-100 opinion into the rating a critic on ``scale`` would publish."""
    if scale in ("ten", "five", "four"):
        best = NUMERIC_BEST[scale]
        v = _halves(latent, best)
        score = round(v / best * 100, 2)
        return Rating(scale, f"{_fmt(v)}/{best}", _num(v), best, 0, score, score >= POSITIVE_THRESHOLD)
    if scale == "four_frac":
        v = _halves(latent, 4)
        whole = int(v)
        shown = ("" if whole == 0 and v % 1 else str(whole)) + ("½" if v % 1 else "")
        score = round(v / 4 * 100, 2)
        return Rating(scale, f"{shown}/4", _num(v), 4, 0, score, score >= POSITIVE_THRESHOLD)
    if scale == "hundred":
        v = int(latent)
        return Rating(scale, f"{v}/100", v, 100, 0, float(v), v >= POSITIVE_THRESHOLD)
    if scale == "stars_half":
        v = max(0.5, _halves(latent, 5))
        shown = "★" * int(v) + ("½" if v % 1 else "")
        score = round(v * 20, 2)
        return Rating(scale, shown, shown, None, None, score, score >= POSITIVE_THRESHOLD)
    if scale == "stars_slots":
        n = round(latent / 20)
        shown = "★" * n + "☆" * (5 - n)
        return Rating(scale, shown, shown, None, None, float(n * 20), n * 20 >= POSITIVE_THRESHOLD)
    if scale == "letter":
        g = _letter(latent)
        score = LETTER_SCORES[g]
        return Rating(scale, g, g, None, None, score, score >= POSITIVE_THRESHOLD)
    if scale == "fresh":
        pos = latent >= POSITIVE_THRESHOLD
        shown = "Fresh" if pos else "Rotten"
        return Rating(scale, shown, shown, None, None, None, pos)
    if scale == "thumbs":
        pos = latent >= POSITIVE_THRESHOLD
        shown = "Thumbs up" if pos else "Thumbs down"
        return Rating(scale, shown, shown, None, None, None, pos)
    raise ValueError(f"unknown rating scale {scale!r}")
