"""Dates written behind a label: "Posted 4 days ago", "Reviewed by Jane on March 3, 2024", "Publié le 3 mars".

dateparser reads none of these whole, and its search_dates would, at ~55 ms a string, which a site with a
distinct label per review ("Posted by user123 on …") turns into minutes. So the label is taken off here and
the rest is tried as a date, but only when it looks like one: after "Posted: N/A" or "Seen Nine" dateparser
would still find something (the day before the fetch, 1 September), and a made-up date is worse than none.
"""

from __future__ import annotations

import re
from functools import lru_cache

_LABEL = (
    r"(?:last\s+)?(?:posted|published|reviewed|updated|written|added|watched|seen|dated?|logged|"
    r"publié|mis\s+à\s+jour|écrit|vu|veröffentlicht|aktualisiert|geschrieben|gesehen|"
    r"publicado|actualizado|escrito|visto|pubblicato|aggiornato|scritto|gepubliceerd|bijgewerkt|geschreven)\b"
    r"[\s:–—-]*"
)
# One label or several ("Posted: Updated: …"), taken off at once.
_LABELS_RE = re.compile(rf"^(?:{_LABEL})+", re.IGNORECASE)
# Who, or where, between the label and the date: "by Jane", "par Jean", "in Reviews".
_AUTHOR_RE = re.compile(r"^(?:by|par|von|por|da|door|in|dans)\s", re.IGNORECASE)
# Where a date may start after such a name: " on ", " le ", ", ", " - ", or a digit.
_PREPOSITION = r"(?:on|le|am|el|il|op|em)"  # "on" before a date, in the labels' languages
_DATE_START_RE = re.compile(rf"\s+{_PREPOSITION}\s+|\s*[,|·–—-]\s*|\s+(?=\d)", re.IGNORECASE)
_PREPOSITION_RE = re.compile(rf"^{_PREPOSITION}\s+", re.IGNORECASE)
_BIDI_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_MAX_LABELLED_CHARS = 200  # a longer text is no date field; trying its suffixes costs a parse each
_MAX_CANDIDATES = 4

# The languages dates are read in: the web's most used, by dateparser's own ranking. Its other 150 read
# stray words as months ("3 mal" is 3 March in Hawaiian, "EST" a Saturday in Gusii), and a made-up date
# is worse than none: a date in a language left out stays unparsed, with its text kept.
DATE_LANGUAGES = [
    "en", "ru", "es", "fr", "de", "ja", "tr", "pt", "fa", "it", "zh", "zh-Hans", "zh-Hant", "nl", "vi", "pl",
    "ar", "ko", "cs", "id", "uk", "el", "he", "th", "sv", "ro", "hu", "da", "fi", "sk", "bg", "sr", "sr-Latn",
    "nb", "nn", "hr", "lt", "sl", "ca", "et", "lv", "hi", "bn", "ur", "ms", "fil", "is", "ta", "te", "mr",
]

_NUMERIC_DATE_RE = re.compile(r"\d{1,4}\s?[-/.]\s?\d{1,2}(?:\s?[-/.]\s?\d{1,4})?")
_MONTH_RE = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|december)\b")
_AGO_RE = re.compile(r"\bago\b")
_DAY_AGO_RE = re.compile(r"^[01] day ago$")


@lru_cache(maxsize=65536)
def in_english(text: str) -> str:
    """``text`` as dateparser's own translation reads it ("il y a 3 jours" -> "3 day ago", "3 mars" -> "3
    march"); "" when no language claims it. (dateparser's locale loader and translate are not its documented
    API: should they change, this gives "" and callers keep their plain rules.)"""
    try:
        from dateparser.conf import settings as default_settings
        from dateparser.date import DateDataParser
        from dateparser.languages.loader import LocaleDataLoader

        locale_code = DateDataParser(languages=DATE_LANGUAGES).get_date_data(text).locale
        if not locale_code:
            return ""
        return LocaleDataLoader().get_locale(locale_code).translate(text, settings=default_settings) or ""
    except (AttributeError, TypeError, ValueError, ImportError):
        return ""


def is_time_ago(text: str) -> bool:
    """Whether a date is an offset back from now ("a month ago", "il y a 1 mois", "vor einem Monat", "last
    month"): dateparser's translation turns them all into "… ago"."""
    return bool(_AGO_RE.search(in_english(text)))


def _looks_dated(text: str) -> bool:
    """A numeric date, a month with a number, an offset back ("4 days ago", "a month ago") or a day word
    ("yesterday", "hier", "gestern"); not "N/A", "Nine", "EST", "Friday the 13th" or a bare year."""
    if _NUMERIC_DATE_RE.search(text):
        return True
    english = in_english(text).strip()
    has_digit = any(c.isdigit() for c in text)
    if has_digit and _MONTH_RE.search(english):
        return True
    if _AGO_RE.search(english) and (has_digit or len(text.split()) >= 2):
        return True
    return not has_digit and len(text.split()) == 1 and bool(_DAY_AGO_RE.match(english))


def unlabeled(text: str) -> list[str]:
    """The texts after the label of ``text`` that look like dates, best guess first; [] when it has no label."""
    text = text.translate(_BIDI_MARKS).strip()
    if len(text) > _MAX_LABELLED_CHARS:
        return []
    label = _LABELS_RE.match(text)
    if not label or label.end() == len(text):
        return []
    rest = text[label.end():]
    candidates = [_PREPOSITION_RE.sub("", rest)]
    if _AUTHOR_RE.match(rest):
        candidates = [_PREPOSITION_RE.sub("", rest[cut.end():]) for cut in _DATE_START_RE.finditer(rest)]
    return [c for c in candidates if c and _looks_dated(c)][:_MAX_CANDIDATES]
