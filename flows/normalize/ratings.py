"""Turn the many ways critics express a rating into one 0-100 score.

Decisions (the project's rules, not a library's):

* Every explicit scale maps linearly onto 0-100: ``x/N``, ``x out of N``, ``x stars`` (of 5, or of the
  scale the caller gives when it can be one of stars: 1 to 10), star glyphs, asterisks, ``86%``. A range
  ("3-4 stars") or two different ratings in one text ("was 3/5, now 4/5") is a problem, not a guess.
  Scores are rounded to 2 decimals so equal inputs give equal floats in the warehouse.
* Letter grades use 12 equal steps from F (0) to A (100): A+ and A are 100, A- 91.67, ... D- 16.67,
  F+ 8.33, F and F- 0.
* Binary verdicts (Fresh/Rotten, thumbs, "recommended") set ``is_positive`` only (rating_verdicts.py).
* Star glyphs count only when nothing else carries the number: in "3/4 ★" or IMDb's "★ 8/10" the
  glyph is an icon or a unit and the explicit x/N wins; "★★★ out of 4" counts glyphs against 4.
* Structured (schema.org ``Rating``) values use their own ``bestRating``/``worstRating``:

  - neither given: schema.org's defaults, best 5 and worst 1;
  - only best given: worst 1 when best is 5 (that is just the default scale restated), otherwise
    worst 0 - sites that publish bespoke scales (4, 10, 20, 100) count from zero, and ``0/10`` is a
    real score;
  - an *implied* worst of 1 never rejects a value in [0, 1): sites with half-star widgets publish
    0.5, and a lower bound we guessed must not throw away data we were given. Such a value is the
    bottom of the scale, score 0: reading it on a 0-5 scale instead (0.5 -> 10) would rank a half
    star above the 1 that the same page's 1-5 scale scores 0.

* A bare number with no scale ("8.5", "86") is ambiguous - 8.5 could be of 10 or of 100, 15 of 20
  or of 100 - so it is rejected with a problem unless the caller passes ``best`` (the crawler knows
  its site's scale; e.g. Metacritic passes ``best=100``).  Guessing would silently corrupt averages.
* Anything impossible (11/10, -3 stars, 6/5, best <= worst, a text scale above 100) or unreadable
  (scientific notation such as "1e3/10", hex) keeps ``score=None`` and says why in ``problem``;
  nothing here raises on bad input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from flows.normalize.rating_verdicts import verdict
from flows.normalize.rating_words import OF_WORD, STAR_WORD, spelled_out, tidy

Number = str | float | int | None
RatingKey = tuple[str | None, Number, Number, Number]


@dataclass(frozen=True)
class Rating:
    score: float | None  # 0-100
    is_positive: bool | None
    problem: str | None  # why a present rating could not be used; None when fine or absent


ABSENT = Rating(None, None, None)

_FRACTIONS = {
    "½": ".5",
    "¼": ".25",
    "¾": ".75",
    "⅓": ".333",
    "⅔": ".667",
    "⅛": ".125",
    "⅜": ".375",
    "⅝": ".625",
    "⅞": ".875",
}
_FULL_STARS = "★⭐✭✮✯✪✦"
_EMPTY_STARS = "☆✩✧"
_GLYPHS = _FULL_STARS + _EMPTY_STARS

_NUM = r"[-−–]?\d+(?:\.\d+)?"
# "(?<![\d/.])" and "(?!\s*/\s*\d)" keep dates such as 12/05/2020 from passing as 12 out of 5;
# "(?<!\d[-−–])" keeps a range such as "3-4/10" from passing as 4/10.
_SCALE_RE = re.compile(
    rf"(?<![\d/.])(?<!\d[-−–])({_NUM})\s*(?:{STAR_WORD}|points?|pts)?\s*(?:/|\b{OF_WORD}\b)"
    rf"\s*({_NUM})(?!\s*/\s*\d)(?!\d|\.\d)",
    re.IGNORECASE,
)
_STARS_WORD_RE = re.compile(
    rf"(?<![\d.])({_NUM})\s*[- ]?\s*{STAR_WORD}\b", re.IGNORECASE
)
_PERCENT_RE = re.compile(rf"(?<![\d.])({_NUM})\s*%")
_ASTERISK_RE = re.compile(r"^(\*{1,10})\s*(0?\.5|1/2)?(?:\s*stars?)?$", re.IGNORECASE)
_MAX_GLYPH_SCALE = 10.0  # nobody draws more than ten stars; more means garbage, and it must not pass
# No outlet rates out of more than 100; a bigger N in text is a year ("seen 03/2021"), a count or an id.
_MAX_TEXT_SCALE = 100.0
# float() reads "1e3" and "0x10" is digits to a regex; neither is how anyone writes a rating, and the
# digit runs inside them ("3/10" in "1e3/10") must not be read as one.
_ODD_NUMBER_RE = re.compile(r"\de[-+−–]?\d|\b0x[0-9a-f]", re.IGNORECASE)
# "1/2 star" is half a star (Ebert's lowest grade), never one star of two.
_HALF_STAR_WORD_RE = re.compile(rf"(?<![\d/.])1/2(?=\s*(?:stars?\b|[{_GLYPHS}]))", re.IGNORECASE)
# A half written after the glyphs it belongs to: "★★★0.5" (from "★★★½"), "★★★1/2".
_GLYPH_HALF_RE = re.compile(rf"(?<=[{_GLYPHS}])\s*(?:0?\.5|1/2)(?![\d/.])")
_HALF_FRACTION_RE = re.compile(r"(?<![\d/.])1/2(?![\d/])")
_GLYPH_RUN_RE = re.compile(rf"[{_GLYPHS}]+")
# A glyph right after a number is its unit: "4★" is "4 stars", "3/4 ★" is "3/4 stars".
_GLYPH_UNIT_RE = re.compile(rf"(\d)\s*[{_GLYPHS}]+")
_GLYPH_OF_N_RE = re.compile(rf"^(?:/|{OF_WORD})\s*(\d+)$", re.IGNORECASE)
_DIGIT_RE = re.compile(r"\d")
_MAX_RAW_CHARS = 200  # a longer "rating" is a mis-extracted body; a 4/5 found inside it is not a rating
_HALF_RE = re.compile(r"(?:^|[^\d])(?:0?\.5|1/2)(?!\d)")
_BARE_NUMBER_RE = re.compile(rf"^({_NUM})$")
_DECIMAL_MARK_RE = re.compile(r"(\d)[,'’·٫．](\d)")
# A scale's number right after "of", with or without an article between ("2 of the 5 stars"): a star count
# found there is the scale, not the rating.
_AFTER_OF_RE = re.compile(rf"\d\s*{OF_WORD}\s+(?:\w+\s+)?$", re.IGNORECASE)
# Two numbers joined as a range before a scale or stars, as the whole rating: "3-4/10", "3 to 4 out of 5", "3 or
# 4 stars" ("Day 3 - 4/5" and "4 / 5 - 8 / 10" are no range).
_RANGE_RE = re.compile(
    rf"^(\d+(?:\.\d+)?)\s*(?:[-−–—]|\b(?:to|or|à|a|bis|tot|ou|o)\b)\s*(\d+(?:\.\d+)?)\s*"
    rf"(?:/|\b{OF_WORD}\b|{STAR_WORD}\b)", re.IGNORECASE)
_LABEL_RE = re.compile(r"^(?:rating|score|grade|note|verdict|our\s+rating|bewertung|nota)\s*[:=\-]?\s*", re.I)
_GRADE_RE = re.compile(r"^([a-df])\s*(?:([+\-−–]?)|[\s-]*(plus|minus))$", re.IGNORECASE)
_GRADE_BASE = {"a": 12, "b": 9, "c": 6, "d": 3}
_MINUS_TABLE = str.maketrans({"−": "-", "–": "-"})

def _as_float(value: Number) -> float | None:
    """Numeric value of a structured field; None when absent or not a plain number."""
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        # NaN is how pandas spells NULL; infinities cannot bound or sit on a scale.
        return float(value) if math.isfinite(value) else None
    text = _prepare(str(value))
    if not text:
        return None
    match = _BARE_NUMBER_RE.match(text)
    return float(match.group(1).translate(_MINUS_TABLE)) if match else None


def _prepare(raw: str) -> str:
    """Fold the spellings of numbers we accept into plain ASCII decimals."""
    text = tidy(" ".join(raw.split()))
    # "3 1/2" and "3½" are the same half point; handle the spaced form before glyphs become decimals.
    text = re.sub(r"(\d)\s+1/2(?!\d)", r"\1.5", text)
    text = _HALF_STAR_WORD_RE.sub("0.5", text)
    for glyph, decimal in _FRACTIONS.items():
        text = re.sub(rf"(\d)\s*{glyph}", rf"\g<1>{decimal}", text)
        text = text.replace(glyph, "0" + decimal)
    # European decimal comma, and the other marks written for a decimal point (Spanish 7'5, full-width ．,
    # Arabic ٫, Catalan ·); only between digits, so "4/5, great" is untouched.
    return _DECIMAL_MARK_RE.sub(r"\1.\2", text)


def _scaled(value: float, worst: float, best: float, shown: str) -> Rating | float:
    """Linear map onto 0-100, or a Rating carrying the problem."""
    if best <= worst:
        return Rating(None, None, f"invalid scale: best {best:g} <= worst {worst:g}")
    if value < worst or value > best:
        return Rating(None, None, f"out of range: {shown}")
    return round((value - worst) / (best - worst) * 100.0, 2) + 0.0  # + 0.0: "-0" of 0-5 is 0, not -0.0


def _finish(result: Rating | float, threshold: float) -> Rating:
    if isinstance(result, Rating):
        return result
    return Rating(result, result >= threshold, None)


def _structured(value: float, best: float | None, worst: float | None, threshold: float) -> Rating:
    worst_implied = worst is None
    if best is None:
        best = 5.0
        if worst is None:
            worst = 1.0
    if worst is None:
        worst = 1.0 if best == 5.0 else 0.0
    if worst_implied and worst == 1.0 and 0.0 <= value < 1.0:
        value = worst
    shown = f"{value:g} (scale {worst:g}-{best:g})"
    return _finish(_scaled(value, worst, best, shown), threshold)


def _star_scale(best: float | None) -> float:
    """How many stars a count of stars is out of: the scale the caller gives (a site of four stars, `--scale 4`)
    when it can be one of stars, else five. A scale of 100 is a number's, not a row of stars'."""
    return best if best is not None and 1.0 <= best <= _MAX_GLYPH_SCALE else 5.0


def _fraction(match: re.Match[str]) -> float | None:
    """An x/N match as a share of its scale, to tell two ratings apart (4/5 and 8/10 are one)."""
    scale = float(match.group(2).translate(_MINUS_TABLE))
    return round(float(match.group(1).translate(_MINUS_TABLE)) / scale, 6) if 0 < scale <= _MAX_TEXT_SCALE else None


def _glyph_stars(text: str) -> tuple[float, float | None] | None:
    """(stars, scale) for '★★★½', '★★★☆☆', '★★1/2', the scale None when no empty star draws it; None when the
    text has no star glyphs."""
    full = sum(text.count(g) for g in _FULL_STARS)
    empty = sum(text.count(g) for g in _EMPTY_STARS)
    if not full and not empty:
        return None
    # After _prepare a half glued to a star reads "0.5"; some sites write "1/2".
    half = 0.5 if _HALF_RE.search(text) else 0.0
    # Empty stars draw the whole scale (the half star's slot counts once); without them the caller's, or 5.
    scale = float(full + empty + (1 if half else 0)) if empty else None
    return full + half, None if scale is None else min(scale, _MAX_GLYPH_SCALE)


def _quoted(raw: str) -> str:
    text = raw.strip()
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _parse_text(raw: str, best: float | None, worst: float | None, threshold: float) -> Rating:
    if len(raw) > _MAX_RAW_CHARS:
        return Rating(None, None, f"unparseable: too long for a rating ({len(raw)} chars): {_quoted(raw)}")
    if raw.strip() == "½":
        # Letterboxd's lowest rating is a lone half star.
        return _finish(_scaled(0.5, 0.0, 5.0, "½ star"), threshold)
    text = _prepare(raw)
    if not text:
        return ABSENT
    unlabeled = _LABEL_RE.sub("", text).strip()
    if not _DIGIT_RE.search(_HALF_FRACTION_RE.sub("", raw)):
        # All in words: read before "½" becomes a lone "0.5" ("Three ½ stars" is 3.5 stars, not half a star).
        words = spelled_out(_LABEL_RE.sub("", " ".join(raw.split())).strip())
        if words is not None:
            return _from_words(words, raw, best, worst, threshold)

    if _ODD_NUMBER_RE.search(text):
        return Rating(None, None, f"unparseable: not a plain number: {_quoted(raw)}")

    stars = _glyph_stars(text)
    if stars is not None:
        value, drawn = stars
        scale = drawn or _star_scale(best)
        unhalved = _GLYPH_HALF_RE.sub("", text)
        rest = _LABEL_RE.sub("", _GLYPH_RUN_RE.sub(" ", unhalved)).strip()
        of_n = _GLYPH_OF_N_RE.match(rest)
        if of_n:
            scale = float(of_n.group(1))
        if of_n or not _DIGIT_RE.search(rest):
            return _finish(_scaled(value, 0.0, scale, f"{value:g}/{scale:g} stars"), threshold)
        # A number beside the glyphs is the rating; counting glyphs would read "★ 8/10" as 1 of 5.
        text = " ".join(_GLYPH_RUN_RE.sub(" ", _GLYPH_UNIT_RE.sub(r"\1 stars ", unhalved)).split())
        unlabeled = _LABEL_RE.sub("", text).strip()

    # Before x/N: the "1/2" in "***1/2" is a half star, not a scale.
    match = _ASTERISK_RE.match(unlabeled)
    if match:
        value, scale = len(match.group(1)) + (0.5 if match.group(2) else 0.0), _star_scale(best)
        return _finish(_scaled(value, 0.0, scale, f"{value:g} asterisks (of {scale:g})"), threshold)

    ranged = _RANGE_RE.search(unlabeled)  # its upper end, or its lower, would be a number the critic did not give
    if ranged and float(ranged.group(1)) < float(ranged.group(2)):  # a range goes up: "2024 - 4/5" is none
        return Rating(None, None, f"a range, not one rating: {_quoted(raw)}")

    # Explicit scales before binary words, so "4/5 - recommended" keeps its number.
    found = list(_SCALE_RE.finditer(text))
    # "was 3/5, now 4/5", "Story: 8/10, Acting: 6/10"; a count ("Top 10 of 2024") is no rating
    if len({_fraction(m) for m in found} - {None}) > 1:
        return Rating(None, None, f"several ratings: {_quoted(raw)}")
    if found:
        value = float(found[0].group(1).translate(_MINUS_TABLE))
        scale = float(found[0].group(2).translate(_MINUS_TABLE))
        shown = f"{found[0].group(1)}/{found[0].group(2)}"
        if scale <= 0 or scale > _MAX_TEXT_SCALE:
            return Rating(None, None, f"invalid scale: {shown}")
        return _finish(_scaled(value, 0.0, scale, shown), threshold)

    match = _STARS_WORD_RE.search(text)
    if match and _AFTER_OF_RE.search(text[:match.start()]):  # "2 of the 5 stars" that tidy did not fold
        return Rating(None, None, f"unparseable: {_quoted(raw)}")
    if match:
        value, scale = float(match.group(1).translate(_MINUS_TABLE)), _star_scale(best)
        return _finish(_scaled(value, 0.0, scale, f"{match.group(1)} stars (of {scale:g})"), threshold)

    match = _PERCENT_RE.search(text)
    if match:
        value = float(match.group(1).translate(_MINUS_TABLE))
        return _finish(_scaled(value, 0.0, 100.0, f"{match.group(1)}%"), threshold)

    grade = _GRADE_RE.match(unlabeled)
    if grade:
        letter = grade.group(1).lower()
        modifier = {"plus": "+", "minus": "-"}.get((grade.group(3) or "").lower(), grade.group(2))
        if letter == "f":
            steps = 1 if modifier == "+" else 0
        else:
            steps = _GRADE_BASE[letter] + (1 if modifier == "+" else -1 if modifier else 0)
        score = round(min(steps, 12) / 12 * 100.0, 2)
        return Rating(score, score >= threshold, None)

    said = verdict(text, _quoted(text))
    if said is not None:
        return Rating(None, *said)

    bare = _BARE_NUMBER_RE.match(unlabeled)
    if bare:
        value = float(bare.group(1).translate(_MINUS_TABLE))
        if best is not None:
            return _structured(value, best, worst, threshold)
        return Rating(None, None, f"ambiguous scale: bare number {_quoted(raw)} (a site profile's [rating_scale] "
                                  "or an import's --scale gives it)")

    words = spelled_out(unlabeled)  # digits and words: "4 out of five"
    if words is not None:
        return _from_words(words, raw, best, worst, threshold)
    return Rating(None, None, f"unparseable: {_quoted(raw)}")


def _from_words(words: str, raw: str, best: float | None, worst: float | None, threshold: float) -> Rating:
    """A rating in words read as its digits; an impossible one says why ("11/10") and what it was read from."""
    in_digits = _parse_text(words, best, worst, threshold)
    if in_digits.problem is None:
        return in_digits
    if in_digits.problem.startswith("unparseable"):
        return Rating(None, None, f"unparseable: {_quoted(raw)}")
    return Rating(None, None, f"{in_digits.problem} (read from {_quoted(raw)})")


def _is_grade(bound: Number) -> bool:
    return isinstance(bound, str) and _GRADE_RE.match(bound.strip()) is not None


@lru_cache(maxsize=65536, typed=True)  # typed: a value True (no rating) is not the number 1
def _parse_cached(raw: str | None, value: Number, best: Number, worst: Number, threshold: float) -> Rating:
    if (_is_grade(best) or _is_grade(worst)) and all(b is None or not str(b).strip() or _is_grade(b)
                                                     for b in (best, worst)):
        # Letter bounds (Google allows bestRating "A") say the scale is the letter one, which has its own
        # steps: the value is read as a grade, and a number on a letter scale means nothing.
        grade = str(value if value is not None and str(value).strip() else raw or "").strip()
        if not _GRADE_RE.match(grade):
            return Rating(None, None, f"not a letter grade on a letter scale: {_quoted(grade)}")
        return _parse_text(grade, None, None, threshold)
    best_f, worst_f = _as_float(best), _as_float(worst)
    if best is not None and str(best).strip() and best_f is None:
        return Rating(None, None, f"unparseable best: {_quoted(str(best))}")
    if worst is not None and str(worst).strip() and worst_f is None:
        return Rating(None, None, f"unparseable worst: {_quoted(str(worst))}")

    if value is not None and str(value).strip():
        # A lone "½" with no scale given is half a star, as in free text (10), not the number 0.5 clamped to
        # the bottom of schema.org's 1-5 (0): "★½" in the same field is 30, and "★" 20. With a scale, it is
        # 0.5 on that scale.
        half_star = str(value).strip() == "½" and best_f is None and worst_f is None
        value_f = None if half_star else _as_float(value)
        if value_f is not None:
            return _structured(value_f, best_f, worst_f, threshold)
        # Some sites put the whole "4/5" or "B+" into ratingValue; read it like free text.
        return _parse_text(str(value), best_f, worst_f, threshold)

    if raw is None or not raw.strip():
        return ABSENT
    return _parse_text(raw, best_f, worst_f, threshold)


def _clean_arg(arg: Number) -> Number:
    # NaN from pandas/pyarrow means absent, and NaN != NaN would defeat the cache.
    if isinstance(arg, float) and math.isnan(arg):
        return None
    return arg


def parse_rating(
    raw: str | None,
    value: str | float | None = None,
    best: str | float | None = None,
    worst: str | float | None = None,
    positive_threshold: float = 60.0,
) -> Rating:
    """Parse one rating into a 0-100 score.

    ``raw`` is the rating text as shown on the page ("3.5/4", "★★★½", "B+", "Fresh").  ``value``,
    ``best`` and ``worst`` are schema.org ``ratingValue``/``bestRating``/``worstRating``; when
    ``value`` is present it wins over ``raw``.  Defaults when structured bounds are missing: best 5
    and worst 1 (schema.org); best without worst -> worst 1 if best is 5 else 0; an implied worst of
    1 never rejects a value in [0, 1), which scores 0 (the bottom of that scale).  A bare number in
    ``raw`` is only accepted when ``best`` is given.  ``is_positive`` is ``score >= positive_threshold``
    or the binary verdict.  Never raises.
    """
    try:
        return _parse_cached(
            raw, _clean_arg(value), _clean_arg(best), _clean_arg(worst), float(positive_threshold)
        )
    except TypeError:
        # Unhashable input (a list from a careless caller) cannot be cached; parse it uncached.
        return _parse_cached.__wrapped__(raw, value, best, worst, float(positive_threshold))


def rate_distinct(rows: Iterable[RatingKey], positive_threshold: float = 60.0) -> dict[RatingKey, Rating]:
    """Parse each distinct ``(raw, value, best, worst)`` tuple once.

    Meant for ``SELECT DISTINCT rating_raw, rating_value, best, worst`` of a batch; the caller joins the
    result back in DuckDB instead of looping over every review row in Python.
    """
    result: dict[RatingKey, Rating] = {}
    for row in rows:
        raw, value, best, worst = row
        key = (raw, value, best, worst)
        if key not in result:
            result[key] = parse_rating(raw, value, best, worst, positive_threshold)
    return result
