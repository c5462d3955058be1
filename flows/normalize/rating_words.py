"""Ratings written in words ("Four stars", "three and a half out of five", "trois étoiles et demie").

text2num turns the number words into digits; this module adds what it leaves alone (halves, hyphens,
German "dreieinhalb", "(out of four)") and decides whether the result is a rating at all. Only a text
that reads as a rating once its numbers are digits is accepted: a number of stars, or a number out of
another ("Four stars", "seven out of ten"). A stray sentence ("one of the best") or a lone word that is
also a number somewhere ("null" is German for 0, "un" French for 1) must stay unparseable.
"""

from __future__ import annotations

import re
from functools import lru_cache

from text_to_num import alpha2digit

# text2num's languages, most common first for the sites this project reads.
_LANGUAGES = ("en", "fr", "es", "de", "it", "pt", "nl")
_LETTER = r"[^\W\d_]"
_WORD_HYPHEN_RE = re.compile(rf"(?<={_LETTER})-(?={_LETTER})")
# "star" in the languages above, singular and plural.
STAR_WORD = r"(?:stars?|étoiles?|estrellas?|sterne?n?|stelle|stella|estrelas?|sterren|ster)"
# "x of N": "4 out of 5", "4 sur 5", "4 von 5", "4 de 5", "4 su 5", "4 sobre 5", "4 van 5", "4 uit 5", "4 em 5".
OF_WORD = r"(?:out\s+of|of|sur|von|van|de|su|sobre|uit|op|em)"
_GERMAN_UNITS = {
    "ein": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10,
}
_GERMAN_HALF_RE = re.compile(rf"\b(\d+|{'|'.join(_GERMAN_UNITS)})\s?einhalb\b", re.IGNORECASE)
_AND_A_HALF = (r"(?:and\s+(?:(?:a|one|1)\s+)?half|and\s+(?:½|1/2)|et\s+demie?|y\s+medi[ao]|e\s+mezz[ao]|e\s+meia|"
               r"en\s+een\s+halve|und\s+ein(?:en)?\s+halbe[rn]?)")
# "3 and a half", "3 stars and a half", "3 étoiles et demie", "3 ½ stars".
_TRAILING_HALF_RE = re.compile(rf"(\d+)(\s+{STAR_WORD})?\s+{_AND_A_HALF}(?!\w)", re.IGNORECASE)
_SPACED_HALF_RE = re.compile(r"(?<![\d.])(\d+)\s+(?:½|1/2)(?![\d/])")
_STAR_AND_A_HALF_RE = re.compile(rf"^an?\s+{STAR_WORD}\s+{_AND_A_HALF}", re.IGNORECASE)
_LONE_HALF_RE = re.compile(
    rf"^(?:a\s+)?(?:half\s+(?:an?\s+)?|une?\s+demie?\s+|media\s+|ein(?:e|en)?\s+halbe[rn]?\s+){STAR_WORD}",
    re.IGNORECASE,
)
_PERCENT_WORD_RE = re.compile(
    r"(\d)\s*(?:percent|per\s+cent|pour\s+cent|prozent|por\s+ciento|per\s+cento|procent)\b", re.IGNORECASE)
_BRACKETED_SCALE_RE = re.compile(rf"\(\s*({OF_WORD}\s+[^()]{{1,20}})\)", re.IGNORECASE)
# "2 out of the 5 stars", "2 de las 5 estrellas", "4 van de 5 sterren", "1 of my 5": the article goes.
_OF_ARTICLE_RE = re.compile(
    rf"\b({OF_WORD})\s+(?:the|my|les|las|los|la|el|den|der|die|dem|de|het|i|le)\s+(?=\d)", re.IGNORECASE)
_POSSIBLE_RE = re.compile(r"\b(out\s+of)\s+(?:a\s+)?(?:(?:possible|maximum(?:\s+of)?)\s+)?(?=\d)", re.IGNORECASE)
_POINT_RE = re.compile(r"(\d)\s+point\s+(\d)", re.IGNORECASE)
# A scale in words after digits or glyphs: "3 stars out of four", "★★★ sur quatre" (the whole-words
# path never sees them: they hold digits or glyphs).
_WORD_SCALE_RE = re.compile(
    rf"\b({OF_WORD})\s+(?:(?:an?|une?|ein(?:e|em)?|un[ao]?)\s+)?({_LETTER}+(?:[\s-]+{_LETTER}+)*)\s*([.!]*)$",
    re.IGNORECASE,
)
_ARTICLE = r"(?:an?|une?|ein(?:e|en)?|una?|uno)"
_NUM = r"\d+(?:\.\d+)?"
_FILM = r"(?:film|movie|review|rating|films?|pelicula|película)"
_OF_N = rf"(?:\s*/\s*|\s+{OF_WORD}\s+(?:an?\s+)?){_NUM}"
# What a rating in words reads as once its numbers are digits: a number of stars, a number out of
# another, or both ("3 stars out of 4"); anything else is prose or a lone number word.
_RATING_SHAPE_RE = re.compile(
    rf"^(?:{_ARTICLE}\s+)?{_NUM}(?:\s*{STAR_WORD}(?:\s+{_FILM})?(?:{_OF_N}(?:\s+{STAR_WORD})?)?|{_OF_N}(?:\s+{STAR_WORD})?"
    rf"|\s*%)[.!]*$",
    re.IGNORECASE,
)


def tidy(text: str) -> str:
    """The ways of writing halves, percentages and scales that digits share with words, folded:
    "3 stars and a half" -> "3.5 stars", "90 percent" -> "90%", "3 stars (out of four)" -> "3 stars out of
    four", "out of a possible 4" -> "out of 4"."""
    text = _GERMAN_HALF_RE.sub(lambda m: f"{_GERMAN_UNITS.get(m.group(1).lower(), m.group(1))}.5", text)
    text = _TRAILING_HALF_RE.sub(lambda m: f"{m.group(1)}.5{m.group(2) or ''}", text)
    text = _SPACED_HALF_RE.sub(r"\1.5", text)
    text = _PERCENT_WORD_RE.sub(r"\1%", text)
    text = _BRACKETED_SCALE_RE.sub(r"\1", text)
    text = _POINT_RE.sub(r"\1.\2", text)
    text = _WORD_SCALE_RE.sub(_scale_in_digits, text)
    text = _OF_ARTICLE_RE.sub(r"\1 ", text)
    return _POSSIBLE_RE.sub(r"\1 ", text)


def _scale_in_digits(match: re.Match[str]) -> str:
    words = " ".join(_WORD_HYPHEN_RE.sub(" ", match.group(2)).split())
    for language in _LANGUAGES:
        try:
            digits = alpha2digit(words, language, threshold=0)
        except (ValueError, RuntimeError):
            continue
        if digits.isdigit():
            return f"{match.group(1)} {digits}{match.group(3)}"
    return match.group(0)


def _halves(text: str) -> str:
    text = re.sub(r"\banderthalb\b", "1.5", text, flags=re.IGNORECASE)
    text = _STAR_AND_A_HALF_RE.sub("1.5 stars", text)
    return _LONE_HALF_RE.sub("0.5 stars", tidy(text))


@lru_cache(maxsize=4096)
def spelled_out(text: str) -> str | None:
    """``text`` with its number words as digits when that makes it read as a rating, else None.

    "Four stars" -> "4 stars", "Two-and-a-half out of four" -> "2.5 out of 4", "half a star" ->
    "0.5 stars"; "one of the best", "null" -> None.
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
