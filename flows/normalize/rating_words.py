"""Ratings written in words ("Four stars", "three and a half out of five", "trois étoiles et demie").

text2num turns the number words into digits; this module adds what it leaves alone (halves, hyphens,
German "dreieinhalb") and decides whether the result is a rating at all. Only a text that reads as a
rating once its numbers are digits is accepted ("Four stars", "seven out of ten"): a stray sentence
("one of the best") must stay unparseable, not become 1 of N.

The ratings parser calls this only for a text it could not read otherwise, so nothing it already reads
changes.
"""

from __future__ import annotations

import re
from functools import lru_cache

from text_to_num import alpha2digit

# text2num's languages, most common first for the sites this project reads.
_LANGUAGES = ("en", "fr", "es", "de", "it", "pt", "nl")
_LETTER = r"[^\W\d_]"
_WORD_HYPHEN_RE = re.compile(rf"(?<={_LETTER})-(?={_LETTER})")
_GERMAN_HALVES = {
    "ein": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10,
}
_GERMAN_HALF_RE = re.compile(rf"\b({'|'.join(_GERMAN_HALVES)})einhalb\b", re.IGNORECASE)
# "star" in the languages above, singular and plural.
STAR_WORD = r"(?:stars?|étoiles?|estrellas?|sterne?n?|stelle|stella|estrelas?|sterren)"
# "3 and a half", "3 stars and a half", "3 étoiles et demie", "3 estrellas y media", "3 e mezza".
_TRAILING_HALF_RE = re.compile(
    rf"(\d+)(\s+{STAR_WORD})?\s+(?:and\s+a\s+half|et\s+demie?|y\s+medi[ao]|e\s+mezz[ao]|e\s+meia|en\s+een\s+halve)\b",
    re.IGNORECASE,
)
_LONE_HALF_RE = re.compile(
    rf"^(?:a\s+)?(?:half\s+(?:a\s+)?|une?\s+demie?[\s-]|media\s+|ein(?:e|en)?\s+halbe[rn]?\s+){STAR_WORD}$",
    re.IGNORECASE,
)
_ARTICLE = r"(?:an?|une?|ein(?:e|en)?|una?|uno)"
_NUM = r"\d+(?:\.\d+)?"
_OF = r"(?:out\s+of|of|sur|von|de|su|em|uit|op)"
_FILM = r"(?:film|movie|review|rating|films?|pelicula|película)"
# What a rating in words reads as once its numbers are digits; anything else is prose.
_RATING_SHAPE_RE = re.compile(
    rf"^(?:{_ARTICLE}\s+)?{_NUM}\s*{STAR_WORD}?(?:\s+{_FILM})?(?:\s+{_OF}\s+{_NUM}(?:\s+{STAR_WORD})?)?[.!]?$",
    re.IGNORECASE,
)


def _halves(text: str) -> str:
    text = _GERMAN_HALF_RE.sub(lambda m: f"{_GERMAN_HALVES[m.group(1).lower()]}.5", text)
    text = _TRAILING_HALF_RE.sub(lambda m: f"{m.group(1)}.5{m.group(2) or ''}", text)
    return "0.5 stars" if _LONE_HALF_RE.match(text) else text


@lru_cache(maxsize=4096)
def spelled_out(text: str) -> str | None:
    """``text`` with its number words as digits when that makes it read as a rating, else None.

    "Four stars" -> "4 stars", "Two-and-a-half out of four" -> "2.5 out of 4", "half a star" ->
    "0.5 stars"; "one of the best" -> None.
    """
    if not re.search(_LETTER, text):
        return None
    unhyphenated = " ".join(_WORD_HYPHEN_RE.sub(" ", text).split())
    for language in _LANGUAGES:
        try:
            digits = alpha2digit(unhyphenated, language, threshold=0)
        except (ValueError, RuntimeError):  # text2num refuses some inputs rather than guess
            continue
        candidate = _halves(digits)
        if candidate != text and _RATING_SHAPE_RE.match(candidate):
            return candidate
    return None
