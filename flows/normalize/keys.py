"""The match keys of film titles and critic names: accents, case, punctuation, articles, bylines and the labels
and outlets pages wrap them in (flows/normalize/text.py cleans the texts themselves)."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from crawlers.title_years import YEAR_SUFFIX


@cache
def _combining_marks() -> dict[int, None]:
    # str.translate runs in C; a per-character unicodedata.combining loop was the hot spot of hashing.
    return dict.fromkeys((c for c in range(0x110000) if unicodedata.combining(chr(c))), None)


def _folded(text: str) -> str:
    """Case folded, and Turkish dotless ı read as i: casefold makes "I" and "İ" an i but keeps "ı", so
    "IŞIL İNCE", "Işıl İnce" and "ışıl ince" were three keys (determinism QA)."""
    return text.casefold().replace("ı", "i")


def _strip_accents(text: str) -> str:
    # Most names and titles are ASCII: nothing to strip, and no table of 1.1M code points to build
    # (~0.1 s, once per process).
    if text.isascii():
        return text
    return unicodedata.normalize("NFKD", text).translate(_combining_marks())


_NON_WORD = re.compile(r"[\W_]+")


def _words_only(text: str) -> str:
    """Letters and digits separated by single spaces; punctuation and symbols become breaks."""
    return _NON_WORD.sub(" ", text).strip()


# A page's label around the film's title in its itemReviewed name: "Review: Arrival", "Arrival (2016) – Review",
# "Critique : Arrival". Always with a separator, so a film called "Review", or "Peer Review", keeps its name.
_LABEL = r"(?:(?:film|movie)\s+)?(?:review|critique|kritik|cr[ií]tica|rese[ñn]a|recensione)"
# A colon or bar may touch the words; a dash must have spaces around it, or "Peer-Review" would lose "Review".
_SEPARATOR = r"(?:\s*[:|]\s*|\s+[\-\u2013\u2014]\s+)"
_LABEL_BEFORE = re.compile(rf"^\s*{_LABEL}{_SEPARATOR}(?=\S)", re.IGNORECASE)
_LABEL_AFTER = re.compile(rf"(?<=\S){_SEPARATOR}{_LABEL}\s*$", re.IGNORECASE)


def without_review_label(title: str | None) -> str | None:
    """A film title without the "Review:" or "– Review" a site wrapped it in (site-drift QA: "Arrival (2016) –
    Review" was a film of its own, beside Arrival)."""
    if not title:
        return title
    return _LABEL_AFTER.sub("", _LABEL_BEFORE.sub("", title)) or title


_TRAILING_ARTICLE = re.compile(r"^(.+),\s*(the|a|an|le|la|les|el|der|die|das)$")
_ELIDED_ARTICLE = re.compile(r"^l['’]\s*")
_APOSTROPHES = re.compile(r"['’`´]")
_ARTICLES = frozenset("the a an le la les el los las il lo der die das".split())


def normalize_title(title: str | None) -> str:
    """Key for matching film titles across sites.

    Casefolded, accents stripped, trailing "(2013)" removed, "&" read as "and", punctuation dropped,
    and one leading article (the/a/an/le/la/les/l'/el/los/las/il/lo/der/die/das) removed.  Both sides
    of a match go through this, so "Die Hard" -> "hard" is harmless.
    """
    if not title:
        return ""
    text = _strip_accents(_folded(title)).strip()
    text = YEAR_SUFFIX.sub("", text)
    text = _TRAILING_ARTICLE.sub(r"\2 \1", text)  # library style "Godfather, The"
    text = _ELIDED_ARTICLE.sub("", text)
    text = _APOSTROPHES.sub("", text).replace("&", " and ")
    words = _words_only(text).split()
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


_BYLINE = re.compile(r"^by\s+", re.IGNORECASE)
_NAME_SUFFIXES = frozenset("jr sr ii iii iv phd md".split())


def without_byline(name: str) -> str:
    """A cleaned name without a leading "By " (display_person, for a name clean_text already read)."""
    return _BYLINE.sub("", name)


# Where a byline adds the outlet to the name: "Roger Ebert, Chicago Sun-Times", "Jane Doe - Variety",
# "Jane Doe | The Guardian", "Jane Doe of the Guardian", "Jane Doe (Variety)".
_OUTLET_AFTER = re.compile(r"\s*(?:,|\s[-–—|/•·]|\s(?:of|for|at)\s|\()\s*")


def without_outlet(name: str, outlet: str | None) -> str:
    """A cleaned name without the review's own outlet appended to it, so that "Roger Ebert, Chicago
    Sun-Times" writing for the Chicago Sun-Times is Roger Ebert. Only the outlet the review names is
    removed: "Smith, Jr." or "Ebert, Roger" stay as written."""
    wanted = normalize_title(outlet)
    if not wanted:
        return name
    for found in _OUTLET_AFTER.finditer(name):
        head, tail = name[:found.start()].strip(), name[found.end():]
        if found.group().strip() == "(":
            tail = tail.rstrip().removesuffix(")")
        if head and normalize_title(tail) == wanted:
            return head
    return name


def normalize_person(name: str | None) -> str:
    """Key for matching critic names: accents stripped, casefolded, punctuation and spacing folded.

    Handles "By Roger Ebert" and "Ebert, Roger" (but not "Smith, Jr.").
    """
    if not name:
        return ""
    text = _BYLINE.sub("", name.strip())
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 2 and all(parts) and _words_only(parts[1].casefold()) not in _NAME_SUFFIXES:
        text = f"{parts[1]} {parts[0]}"
    text = _APOSTROPHES.sub("", _strip_accents(_folded(text)))
    return _words_only(text)
