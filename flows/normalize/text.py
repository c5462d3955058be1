"""Review text cleanup (the match keys of titles and names are in flows/normalize/keys.py).

Hostile text rule: ``clean_text`` returns what a reader of the page saw.  Input is treated as an
HTML fragment (JSON-LD ``reviewBody`` routinely carries ``<p>``/``<br>``/``<a href>``):

* real tags are removed and their text kept; in feed HTML ``<script>``, ``<style>`` and ``<template>``
  elements are dropped with their content because a browser never shows it.  In JSON-LD text only
  tags of HTML elements count (``<a href="...">``, ``<img>``, ``</p>``); ``<3``, ``a < b``,
  ``<insert name>``, a ``<script>`` or a tag with an event handler are what the author (or an XSS
  probe) wrote, and stay as text.  Microdata and RDFa values are an element's text
  content, so no tag in them is read (``clean_review_text``);
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
from functools import lru_cache

import ftfy
import lxml.html
from lxml import etree

from flows.normalize.keys import without_byline

_INVISIBLE_ELEMENTS = ("script", "style", "template")
# Elements a reader sees as paragraphs of their own: a break before and after each.
_BLOCK_ELEMENTS = frozenset(
    "p div section article blockquote li ul ol h1 h2 h3 h4 h5 h6 tr table pre figure header footer hr figcaption "
    "aside nav main address details summary dl dt dd caption td th".split()
)
# The element names HTML knows (lxml's list, plus newer ones it lacks): in JSON-LD text a tag of
# one of these is markup the site left in, any other "<...>" is the author's.
_HTML_ELEMENTS = lxml.html.defs.tags | {"main", "template", "picture", "data", "bdi", "dialog", "search", "slot"}
_ATTRIBUTES = r"""(?:\s+[^\s"'<>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'<>=`]+))?)*"""
_TAG = re.compile(rf"<(/?)([A-Za-z][A-Za-z0-9]*){_ATTRIBUTES}\s*/?>")
# A site's own markup has passed its sanitizer, which removes event handlers: a tag with one in a
# review's text was typed by a user (an XSS probe such as '"><img src=x onerror=alert(1)>'), and the
# review's feed copy shows it escaped, as text.
_EVENT_HANDLER = re.compile(r"[\s/\"']on[a-z]+\s*=", re.IGNORECASE)
# How text carries markup: an HTML fragment, text that may hold HTML tags, or plain text.
_HTML, _TAGS, _PLAIN = "html", "tags", "plain"
# (body, title) of each syntax. A site profile's values are an element's visible text, or with `html = true`
# (the body only, crawlers/profile_pages.py) its inner markup.
_MARKUP_OF_SYNTAX = {"feed": (_HTML, _HTML), "json-ld": (_TAGS, _TAGS), "microdata": (_PLAIN, _PLAIN),
                     "rdfa": (_PLAIN, _PLAIN), "profile": (_PLAIN, _PLAIN), "profile-html": (_HTML, _PLAIN)}
# C0 controls (bar tab and newlines) break lxml and mean nothing in prose; zero-width spaces, word
# joiners and soft hyphens would make identical texts hash differently.  C1 controls are only removed
# after ftfy, which needs them to undo latin-1 mojibake such as "â\x80\x99".  Kept on purpose: ZWJ and
# ZWNJ (U+200C/D: they join emoji sequences and shape Persian and Indic words), direction marks and
# bidi controls (U+200E/F, U+202A-E, U+2066-9: right-to-left text quoting a Latin title needs them).
# rowfixes.NEEDS_CLEANING must send every text this module would change to Python.
_STRIP_C0 = re.compile("[\x00-\x08\x0e-\x1f\x7f]")
# A vertical tab (Word's line break) and a form feed (a page break) part words, as a newline does: deleted,
# "line one\x0bline two" read "line oneline two" (sizes QA).
_STRIP_AFTER = re.compile("[\x80-\x9f\xad\u200b\u2060\ufeff]")
_PARAGRAPH_SEPARATOR = "\u2029"  # ftfy would make it one "\n", which folds to a space
_PARAGRAPH_SPLIT = re.compile(r"\n[ \t\r\f\v\xa0]*\n")
_TAG_HINT = re.compile(r"<[A-Za-z!/?]")
_MAX_UNESCAPE_ROUNDS = 4
# Escapes closed by ";", and a decimal one of a Latin-1 character without it ("it&#39s": some templates drop
# the ";"); a longer run of digits is left alone ("the &#3990s", "Room &#12345678" are no escapes).
_STRICT_ENTITY = re.compile(r"&(?:#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};"
                            r"|#[0-9]{2,3}(?![0-9;]))")


def _strict_entity(found: re.Match[str]) -> str:
    text = found.group(0)
    if not text.endswith(";") and not 32 <= int(text[2:]) <= 255:
        return text
    return html.unescape(text)
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_ASCII_SPACES = " \t\n\r\f\v"  # words split on these only: U+00A0 may be half a broken character
_ASCII_SPACE = re.compile(f"[{_ASCII_SPACES}]")
_MAX_RUNS = 16  # beyond this many non-ASCII words one whole-text ftfy call is cheaper
_CACHED_RUN = 64  # longer runs (a CJK paragraph has no ASCII spaces) are not worth keeping
# Entities are done already; ftfy must not decode a second time, and curly quotes are the author's.
_FTFY_OPTIONS = {"unescape_html": False, "uncurl_quotes": False, "fix_character_width": False}


def _html_to_text(fragment: str) -> str | None:
    """The text a browser shows of an HTML fragment; None when lxml cannot read it. Not html_text (a dependency,
    crawlers/profile_pages.py): it shows a <template>'s content, which a browser does not, and every stored
    review's body, and so its content hash, would change with the rules that lay out its lines."""
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return None
    for element in list(root.iter(*_INVISIBLE_ELEMENTS)):
        element.drop_tree()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == "br":
            element.tail = "\n" + (element.tail or "")
        elif element.tag in _BLOCK_ELEMENTS:  # "a<div>b</div>c" is three lines
            element.text = "\n\n" + (element.text or "")
            element.tail = "\n\n" + (element.tail or "")
    return root.text_content()


def _strict_unescape(text: str) -> str:
    return _STRICT_ENTITY.sub(_strict_entity, text)


def _unescape(text: str, as_browser: bool) -> str:
    """Entities decoded as the reader saw them, then the rounds a double escape ("&amp;amp;") left.

    Only HTML no parser has read yet (`as_browser`) is decoded as a browser decodes it, legacy entities
    without a semicolon included ("&copy 2013"). Every other round, and every round of text a parser
    decoded already (an element's text, HTML lxml read) or that is no HTML (a JSON-LD value), decodes
    only entities closed by a semicolon (and "&#39" without one): that is what an escape writes, while
    "&region=US" in a pasted link or "&not bad" is text, which html.unescape would turn into "®ion=US"
    and "¬ bad". A few rounds at most, so a text *about* entities keeps some.
    """
    for round_no in range(_MAX_UNESCAPE_ROUNDS):
        if "&" not in text:
            break
        decoded = html.unescape(text) if round_no == 0 and as_browser else _strict_unescape(text)
        if decoded == text:
            break
        text = decoded
    return text


def _fold_whitespace(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = (" ".join(part.split()) for part in _PARAGRAPH_SPLIT.split(text))
    return "\n\n".join(p for p in paragraphs if p)


def _markup_tags(text: str) -> list[re.Match[str]]:
    """The tags in JSON-LD text that are markup: tags of HTML elements, less those a user typed.

    A tag with an event handler is text (see _EVENT_HANDLER), and so is ``<script>`` (``<style>``,
    ``<template>``): no site puts executable code in a review's text, so it is an XSS probe typed by a
    user, shown escaped in the review's feed copy; read as markup it would drop the probe (which is
    hostile text to store verbatim) and make the page and feed copies two reviews.
    """
    return [tag for tag in _TAG.finditer(text)
            if (name := tag.group(2).lower()) in _HTML_ELEMENTS and name not in _INVISIBLE_ELEMENTS
            and not _EVENT_HANDLER.search(tag.group(0))]


def _tags_as_breaks(text: str, tags: list[re.Match[str]]) -> str:
    # Each tag replaced by the break a reader sees at it: what lxml gives when no element hides its
    # content. An end tag that closes nothing is ignored, as lxml ignores it.
    pieces: list[str] = []
    open_blocks: dict[str, int] = {}
    done = 0
    for tag in tags:
        name, closing = tag.group(2).lower(), bool(tag.group(1))
        block = name in _BLOCK_ELEMENTS and (not closing or open_blocks.get(name, 0) > 0)
        if block:
            open_blocks[name] = open_blocks.get(name, 0) + (-1 if closing else 1)
        pieces += [text[done:tag.start()], "\n" if name == "br" else "\n\n" if block else ""]
        done = tag.end()
    return "".join([*pieces, text[done:]])


def _structured_text_to_text(text: str) -> str:
    """JSON-LD text with the HTML tags a site left in it read as HTML, and the rest as text."""
    # No element left as markup here hides its content (<script> is text, see _markup_tags), so
    # replacing the tags gives lxml's reading (a test checks) at less than half its cost.
    tags = _markup_tags(text)
    return _tags_as_breaks(text, tags) if tags else text


def _word_runs(text: str) -> list[tuple[int, int]]:
    """Spans of the words that hold non-ASCII characters, each with the spaces after it.

    Words split on ASCII whitespace only. Mojibake stays inside a word, except when a character's
    second byte was U+00A0 and became a space ("à" read as latin-1 is "Ã" + NBSP): so a word ending
    in a UTF-8 lead byte (U+00C2-U+00F4) runs on across the spaces into the next word, and every
    span keeps its trailing spaces, which ftfy needs to restore that byte.
    """
    runs: list[tuple[int, int]] = []
    for found in _NON_ASCII.finditer(text):
        if runs and found.start() < runs[-1][1]:
            continue
        start = found.start()
        while start > 0 and text[start - 1] not in _ASCII_SPACES:
            start -= 1
        end = _word_end(text, found.end())
        while end < len(text) and text[end] in " \t" and "\xc2" <= text[end - 1] <= "\xf4":
            end = _word_end(text, _after_spaces(text, end))
        runs.append((start, _after_spaces(text, end)))
    return runs


def _word_end(text: str, index: int) -> int:
    space = _ASCII_SPACE.search(text, index)
    return space.start() if space else len(text)


def _after_spaces(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t":
        index += 1
    return index


@lru_cache(maxsize=1 << 14)
def _fix_short_run(run: str) -> str:
    # Broken words recur across a batch ("donâ€™t", "cafÃ©"), and a call costs ftfy 40-100 µs.
    return ftfy.fix_text(run, **_FTFY_OPTIONS)


def _fix_run(run: str) -> str:
    return _fix_short_run(run) if len(run) <= _CACHED_RUN else ftfy.fix_text(run, **_FTFY_OPTIONS)


def _fix_encoding(text: str) -> str:
    """ftfy on the runs of words that hold non-ASCII characters; ASCII text has nothing to repair.

    ftfy's cost grows with the length of what it scans (~0.5 ms for a 450-character body), and
    what it repairs here (mojibake, a byte A0 read as a space, ligatures, odd line breaks, NFC) lives in
    non-ASCII characters, so a mostly-ASCII review costs a few words instead of its whole length.
    A text with many such words (Cyrillic, Greek, CJK) goes to ftfy whole: one call is cheaper then.
    Word by word, ftfy sees less context than in the whole text, so on rare ambiguous words the two
    differ: "Å\xa0koda" (Š read as latin-1) alone is left as it is unless other broken words surround it,
    and a lone broken word in Cyrillic text is repaired where whole-text ftfy would leave it.
    """
    if text.isascii():
        return text
    runs = _word_runs(text)
    if len(runs) > _MAX_RUNS:
        return ftfy.fix_text(text, **_FTFY_OPTIONS)
    pieces, done = [], 0
    for start, end in runs:
        pieces += [text[done:start], _fix_run(text[start:end])]
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def clean_text(raw: str | None, html_markup: bool = True) -> str | None:
    """Visible plain text of a review body: tags stripped, entities decoded, mojibake repaired.

    ``html_markup=True`` reads the input as an HTML fragment (feed descriptions). ``False`` reads it
    as schema.org Text (JSON-LD values): the tags of HTML elements that sites leave in such text
    (<p>, <br>, <a href="...">, <img>...) are removed as in a feed; any other "<...>" ("<3",
    "a < b", "<insert name>", "<script>…</script>", a tag with an event handler) is what the author
    wrote and stays, as it does when a feed escapes it.
    Paragraph breaks survive as ``"\\n\\n"``; other whitespace folds to single spaces.  Returns
    None for missing or blank input.  See the module docstring for how hostile text is treated.
    """
    return _clean(raw, _HTML if html_markup else _TAGS)


def clean_review_text(raw: str | None, syntax: str | None, field: str = "body") -> str | None:
    """``clean_text`` of a landed review's title or body, read the way its syntax carries text.

    A feed description is HTML and a JSON-LD value may hold HTML tags (see ``clean_text``); a microdata
    or RDFa value is an element's text content, its markup gone already, so a tag in it was escaped
    on the page and shown to the reader: it stays, and the review reads as its feed copy does.
    """
    body, title = _MARKUP_OF_SYNTAX.get(syntax or "", (_TAGS, _TAGS))
    return _clean(raw, title if field == "title" else body)  # `field`: "body" or "title"


def _clean(raw: str | None, markup: str) -> str | None:
    if raw is None:
        return None
    # Vertical tab and form feed break lines. replace(), not str.translate(): on text that is not ASCII (every
    # mojibake body) translate looks each character up in a dict, ~50 µs a body, a third of clean_text's cost.
    text = _STRIP_C0.sub("", raw).replace("\x0b", "\n").replace("\x0c", "\n")
    as_browser = markup == _HTML  # HTML whose entities no parser has decoded yet
    if markup == _TAGS and "<" in text:
        text = _structured_text_to_text(text)
    elif markup == _HTML and _TAG_HINT.search(text):
        parsed = _html_to_text(text)
        text, as_browser = (text, True) if parsed is None else (parsed, False)
    text = _fix_encoding(_unescape(text, as_browser).replace(_PARAGRAPH_SEPARATOR, "\n\n"))
    text = _fold_whitespace(_STRIP_AFTER.sub("", text))
    return text or None


def display_person(name: str | None) -> str | None:
    """A critic's name as shown: cleaned like any text, without a leading "By ".

    "Ebert, Roger" stays as written: a comma may turn a name round, but also add an outlet
    ("Roger Ebert, Chicago Sun-Times") or a suffix ("Smith, Jr."), and turning those round would
    print a wrong name. The critic's key (normalize_person) reads both forms alike.
    """
    text = clean_text(name, html_markup=False)
    return None if text is None else without_byline(text)
