"""Review text cleanup, language detection, duplicate hashing and match keys.

Hostile text rule: ``clean_text`` returns what a reader of the page saw.  Input is treated as an
HTML fragment (JSON-LD ``reviewBody`` routinely carries ``<p>``/``<br>``/``<em>``):

* real tags are removed and their text kept; ``<script>``, ``<style>`` and ``<template>`` elements
  are dropped with their content because a browser never shows it;
* entity-escaped markup (``&lt;script&gt;``) was visible text on the page, so it comes out as the
  literal characters ``<script>`` and is never re-parsed as markup;
* SQL-looking text (``'); DROP TABLE reviews; --``) is ordinary text and passes through verbatim -
  the warehouse only ever binds it as a parameter.

The output is plain text, not HTML: whoever renders it must escape it.  The untouched original is
stored separately as ``raw``, so nothing dropped here is lost for good.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import cache

import ftfy
import lxml.html
from lxml import etree

_INVISIBLE_ELEMENTS = ("script", "style", "template")
_BLOCK_ELEMENTS = frozenset(
    "p div section article blockquote li ul ol h1 h2 h3 h4 h5 h6 tr table pre figure header footer".split()
)
# C0 controls (bar tab and newlines) break lxml and mean nothing in prose; zero-width marks and soft
# hyphens would make identical texts hash differently.  C1 controls are only removed after ftfy,
# which needs them to undo latin-1 mojibake such as "â\x80\x99".
_STRIP_C0 = dict.fromkeys([c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)] + [0x7F], None)
_STRIP_AFTER = dict.fromkeys(list(range(0x80, 0xA0)) + [0xAD, 0x200B, 0xFEFF], None)
_PARAGRAPH_SPLIT = re.compile(r"\n[ \t\r\f\v\xa0]*\n")
_TAG_HINT = re.compile(r"<[A-Za-z!/?]")
_FORMATTING_TAG = re.compile(
    r"<\s*/?\s*(p|br|div|li|ul|ol|blockquote|h[1-6]|em|strong|i|b|u|span)\b[^<>]*>", re.IGNORECASE
)
_MAX_UNESCAPE_ROUNDS = 4


def _html_to_text(fragment: str) -> str:
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return fragment
    for element in list(root.iter(*_INVISIBLE_ELEMENTS)):
        element.drop_tree()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == "br":
            element.tail = "\n" + (element.tail or "")
        elif element.tag in _BLOCK_ELEMENTS:
            element.tail = "\n\n" + (element.tail or "")
    return root.text_content()


def _unescape(text: str) -> str:
    # Feeds double-escape ("&amp;amp;"); stop after a few rounds so a text *about* entities keeps some.
    for _ in range(_MAX_UNESCAPE_ROUNDS):
        if "&" not in text:
            break
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    return text


def _fold_whitespace(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = (" ".join(part.split()) for part in _PARAGRAPH_SPLIT.split(text))
    return "\n\n".join(p for p in paragraphs if p)


def _formatting_to_text(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        tag = match.group(1).lower()
        return "\n" if tag == "br" else "\n\n" if tag in _BLOCK_ELEMENTS else ""

    return _FORMATTING_TAG.sub(replace, text)


def clean_text(raw: str | None, html_markup: bool = True) -> str | None:
    """Visible plain text of a review body: tags stripped, entities decoded, mojibake repaired.

    ``html_markup=True`` reads the input as an HTML fragment (feed descriptions). ``False`` reads it
    as schema.org Text (JSON-LD, microdata, RDFa values): only common formatting tags (<p>, <br>,
    <em>...) that sites leave in such text are removed; any other "<...>" is what the author wrote and
    stays, so the same review reads the same from a page and from a feed.
    Paragraph breaks survive as ``"\\n\\n"``; other whitespace folds to single spaces.  Returns
    None for missing or blank input.  See the module docstring for how hostile text is treated.
    """
    if raw is None:
        return None
    text = raw.translate(_STRIP_C0)
    if not html_markup:
        text = _formatting_to_text(text)
    elif _TAG_HINT.search(text):
        text = _html_to_text(text)
    text = _unescape(text)
    # Entities are done already; ftfy must not decode a second time, and curly quotes are the author's.
    text = ftfy.fix_text(text, unescape_html=False, uncurl_quotes=False, fix_character_width=False)
    text = _fold_whitespace(text.translate(_STRIP_AFTER))
    return text or None


# --- language -----------------------------------------------------------------------------------

_MIN_DETECT_CHARS = 20
_MIN_CONFIDENCE = 0.5
_MAX_DETECT_CHARS = 300  # the first sentences decide; longer input costs time, not accuracy
_ISO639_2_TO_1 = {
    "eng": "en",
    "fra": "fr",
    "fre": "fr",
    "deu": "de",
    "ger": "de",
    "spa": "es",
    "ita": "it",
    "por": "pt",
    "nld": "nl",
    "dut": "nl",
    "rus": "ru",
    "jpn": "ja",
    "zho": "zh",
    "chi": "zh",
    "kor": "ko",
    "pol": "pl",
    "swe": "sv",
    "dan": "da",
    "nor": "no",
    "fin": "fi",
    "tur": "tr",
    "ara": "ar",
    "hin": "hi",
}


@cache
def _identifier():
    # Loading the model takes ~1 s; do it once per process and only when needed.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _declared_code(declared: str | None) -> str | None:
    if not declared:
        return None
    primary = re.split(r"[-_]", declared.strip())[0].lower()
    if len(primary) == 2 and primary.isalpha():
        return primary
    return _ISO639_2_TO_1.get(primary)


def detect_language(text: str | None, declared: str | None = None) -> str | None:
    """ISO 639-1 code of ``text``.

    A declared language (``<html lang>``, ``inLanguage``) is trusted and reduced to its primary
    subtag ("en-US" -> "en"); unusable declarations ("und", "x-default") fall back to detection.
    Detection needs at least 20 characters and a normalized probability >= 0.5, else None.
    """
    code = _declared_code(declared)
    if code:
        return code
    if not text or len(text.strip()) < _MIN_DETECT_CHARS:
        return None
    # The first 1,000 characters settle the language; classifying whole bodies only costs time.
    language, probability = _identifier().classify(text[:_MAX_DETECT_CHARS])
    return language if probability >= _MIN_CONFIDENCE else None


# --- keys ---------------------------------------------------------------------------------------


@cache
def _combining_marks() -> dict[int, None]:
    # str.translate runs in C; a per-character unicodedata.combining loop was the hot spot of hashing.
    return dict.fromkeys((c for c in range(0x110000) if unicodedata.combining(chr(c))), None)


def _strip_accents(text: str) -> str:
    return unicodedata.normalize("NFKD", text).translate(_combining_marks())


_NON_WORD = re.compile(r"[\W_]+")


def _words_only(text: str) -> str:
    """Letters and digits separated by single spaces; punctuation and symbols become breaks."""
    return _NON_WORD.sub(" ", text).strip()


_YEAR_SUFFIX = re.compile(r"\s*[(\[]\s*(?:18|19|20)\d{2}\s*[)\]]\s*$")
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
    text = _strip_accents(title.casefold()).strip()
    text = _YEAR_SUFFIX.sub("", text)
    text = _TRAILING_ARTICLE.sub(r"\2 \1", text)  # library style "Godfather, The"
    text = _ELIDED_ARTICLE.sub("", text)
    text = _APOSTROPHES.sub("", text).replace("&", " and ")
    words = _words_only(text).split()
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


_BYLINE = re.compile(r"^by\s+", re.IGNORECASE)
_NAME_SUFFIXES = frozenset("jr sr ii iii iv phd md".split())


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
    text = _APOSTROPHES.sub("", _strip_accents(text.casefold()))
    return _words_only(text)
