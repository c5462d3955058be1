r"""Declarative site profiles: one small TOML file per site says where its reviews are, so a user adds a
site without writing Python (the `profile` spider, crawlers/spiders/profile.py, crawls with one).

This module reads and checks profile files; crawlers/profile_pages.py reads pages with them. Both are
free of Scrapy (parsel only, which Scrapy ships) so the flows and the command line can check a profile
before a crawl starts, and try one on a saved page, through the same code the spider runs.

```toml
start_urls = ["https://reviews.example/critics/ann/"]  # optional: used when the crawl is given no URL
reviews = "article.review"           # required: one element per review
next_pages = ["a[rel=next]"]         # optional: pagination links to follow
follow = ["a.film-link"]             # optional: other links to follow (film pages from an index)
audience = "critic"                  # optional constant: critic or user
outlet = "The Daily Reel"            # optional constant (an `outlet` field wins over it)

[fields]                             # each relative to one review element
source_review_id = "::attr(data-id)"
url = "h2 a::attr(href)"             # url and critic_url are resolved against the page
film_title = "h2 a::text"
film_year = "xpath:.//span[@class='year']/text()"
imdb_id = { css = "a.imdb::attr(href)", pattern = "tt\\d+" }
critic_name = ".byline"
rating = ".stars::text"              # rating_raw, verbatim: "★★★½", "3.5/4", "B+"
rating_value = { css = ".stars::attr(class)", pattern = "rated-(\\d+)" }  # a number on rating_scale
body = { css = ".text", html = true, exclude = ["a.more"] }

[page_fields]                        # optional: the same fields, read once from the whole page, for
film_title = "h1::text"              # reviews that lack them (a film page whose reviews do not name it)

[rating_scale]                       # optional: what rating_value (or a bare-number rating) is out of
best = 10
worst = 0
```
A top-level `date_order = "DMY"` (or `"MDY"`) tells in which order the site writes day and month in dates
with slashes or dashes (`03/01/2024`); without it they are read month first, unless only the other way
makes a date.

Fields: source_review_id, url, film_title, film_year, imdb_id, tmdb_id, critic_name, critic_url, outlet,
rating (-> rating_raw), rating_value, title (-> review_title), body, published (-> published_raw),
language (-> language_declared). A review without a `url` gets the page's, and without
`source_review_id` a key of its permalink or of what it says (crawlers.profile_pages, _key_reviews_without_ids).
With `[rating_scale]`, items carry it as
rating_best/rating_worst, and rating_value is the `rating_value` field, else the `rating` field's value.

Selectors: CSS by default (with parsel's `::text` and `::attr(name)`; alone, they read the review
element's own text or attribute), XPath after an `xpath:` prefix; review fields take relative XPath
(`.//a`, not `//a` or `(//a)[1]`). A field is a selector string or a table `{css = "..."}` /
`{xpath = "..."}` with `pattern` (a regex: its first group, or else its whole match, is the value),
`html` (true: an element's inner markup as published, not its text) and `exclude` (selectors of elements
inside the matched one to leave out: a "Read more" link, a share widget). A field reads the first node
its selector matches: an attribute or text node as it is, an element as the text a reader sees (scripts
and styles left out, a line break between blocks). A review element nested in another (a reply) is not
part of the outer review's fields. Values lose only their surrounding whitespace: the flows clean, score
and parse dates. Links to follow are every match, an element giving its href.

`load_profile` checks the whole file before anything is crawled: unknown keys, types, selectors and
regexes that do not compile, and profiles whose every item the landing pipeline would refuse (no film
field; no body or rating) or misread (a rating_value without a scale).
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cssselect import SelectorError
from parsel import Selector

from crawlers.items import AUDIENCES, DATE_ORDERS

# A profile field -> the ReviewItem attribute it fills (imdb_id and tmdb_id fill external_ids).
FIELDS = {
    "source_review_id": "source_review_id", "url": "url", "film_title": "film_title", "film_year": "film_year",
    "imdb_id": "imdb", "tmdb_id": "tmdb", "critic_name": "critic_name", "critic_url": "critic_url",
    "outlet": "outlet", "rating": "rating_raw", "rating_value": "rating_value", "title": "review_title",
    "body": "body", "published": "published_raw", "language": "language_declared",
}
EXTERNAL_IDS = ("imdb_id", "tmdb_id")
LINK_FIELDS = ("url", "critic_url")
TOP_KEYS = ("start_urls", "reviews", "next_pages", "follow", "audience", "outlet", "fields", "page_fields",
            "rating_scale", "date_order")
QUERY_KEYS = ("css", "xpath", "pattern", "html", "exclude")
SCALE_KEYS = ("best", "worst")
XPATH_PREFIX = "xpath:"
# `::attr(name)` or `::text` alone means the review element's own: parsel would read them as
# `descendant-or-self::*/@name`, which finds a child's id when the element has none.
_OWN_ATTRIBUTE = re.compile(r"^\s*::attr\(\s*([^\s()]+)\s*\)\s*$")
_OWN_TEXT = re.compile(r"^\s*::text\s*$")
_XPATH_STRING = re.compile(r"\"[^\"]*\"|'[^']*'")
# A location path that starts at the root: "/" or "//" at the start of an expression, or after "(", "|", ",",
# "[" or an operator (`(//h1)[1]`, `.//a | //h1`, `concat(., //b)`, `. and //b`, `(.//a)and //b`), string
# literals aside. A space alone is no operator (`.//h2 /a` is `.//h2/a`), and a `*` is one only after a name,
# number, literal, `)`, `]` or `.` (XPath 1.0, 3.7): elsewhere it is a wildcard step (`.//*/h2`), rewritten to a
# name before the check.
_ABSOLUTE_PATH = re.compile(r"(?:^|[(|,\[=<>+*-]|[\s)\]\"'](?:and|or|div|mod))\s*/")
_WILDCARD_STEP = re.compile(r"(^|[^\w.)\]'\"\s])(\s*)\*")
# Selectors are compiled against an empty page when a profile is loaded: parsel raises on a bad one only
# when it is first used, which would be mid-crawl, on every page.
_EMPTY_PAGE = Selector(text="<html/>")


def _absolute(xpath: str) -> bool:
    return bool(_ABSOLUTE_PATH.search(_WILDCARD_STEP.sub(r"\1\2n", _XPATH_STRING.sub('""', xpath))))


class ProfileError(ValueError):
    """A profile that cannot be used, as one line naming its file and key."""


@dataclass(frozen=True)
class Query:
    """One selector of a profile, with where it was written (`key`) for messages."""

    key: str
    selector: str
    xpath: bool = False
    pattern: re.Pattern[str] | None = None
    html: bool = False
    exclude: tuple[Query, ...] = ()  # elements taken out of the matched one before its value is read


@dataclass(frozen=True)
class Profile:
    path: Path
    reviews: Query
    fields: dict[str, Query]
    page_fields: dict[str, Query] = field(default_factory=dict)
    next_pages: tuple[Query, ...] = ()
    follow: tuple[Query, ...] = ()
    start_urls: tuple[str, ...] = ()
    audience: str | None = None
    outlet: str | None = None
    rating_best: str | None = None
    rating_worst: str | None = None
    date_order: str | None = None  # the site's order of day and month in dates with slashes or dashes


def _kind(value: Any) -> str:
    kinds = ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"),
             (list, "an array"), (dict, "a table"))
    return next((name for cls, name in kinds if isinstance(value, cls)), "a date")


def one_line(error: Exception) -> str:
    return " ".join(str(error).split())


class _Reader:
    """Checks a profile's parsed TOML, failing on the first mistake with its file and key."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, message: str) -> ProfileError:
        return ProfileError(f"{self.path}: {key}: {message}")

    def known_keys(self, table: dict[str, Any], known: tuple[str, ...] | dict[str, str], prefix: str = "") -> None:
        for key in table:
            if key not in known:
                close = difflib.get_close_matches(key, list(known), n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
                raise self.fail(f"{prefix}{key}", f"unknown key; {hint}")

    def query(self, key: str, value: Any, options: bool = False, relative: bool = False) -> Query:
        """A selector string (or, with `options`, a table of one); compiled, or a ProfileError."""
        pattern, html, exclude = None, False, ()
        if isinstance(value, dict) and options:
            self.known_keys(value, QUERY_KEYS, f"{key}.")
            if ("css" in value) == ("xpath" in value):
                raise self.fail(key, "give exactly one of css or xpath")
            lang = "css" if "css" in value else "xpath"
            selector, xpath = value[lang], lang == "xpath"
            if not isinstance(selector, str):
                raise self.fail(f"{key}.{lang}", f"expected a selector string, got {_kind(selector)}")
            if not isinstance(value.get("html", False), bool):
                raise self.fail(f"{key}.html", f"expected true or false, got {_kind(value['html'])}")
            html = value.get("html", False)
            if "pattern" in value:
                pattern = self.pattern(f"{key}.pattern", value["pattern"])
            if "exclude" in value:
                exclude = self.queries(f"{key}.exclude", value["exclude"], relative=True)
        elif isinstance(value, str):
            xpath = value.startswith(XPATH_PREFIX)
            selector = value.removeprefix(XPATH_PREFIX)
        else:
            wanted = "a selector string or a table {css|xpath, pattern, html}" if options else "a selector string"
            raise self.fail(key, f"expected {wanted}, got {_kind(value)}")
        if not selector.strip():
            raise self.fail(key, "empty selector")
        if not xpath and (own := _OWN_ATTRIBUTE.match(selector) or _OWN_TEXT.match(selector)):
            selector, xpath = (f"@{own.group(1)}" if own.re is _OWN_ATTRIBUTE else "text()"), True
        if xpath and relative and _absolute(selector):
            raise self.fail(key, f"XPath {selector!r} searches the whole page, not the review: start it with '.' "
                                 "(.//a), or read it in [page_fields]")
        try:
            _EMPTY_PAGE.xpath(selector) if xpath else _EMPTY_PAGE.css(selector)
        except (SelectorError, ValueError) as error:
            language = "XPath" if xpath else "CSS"
            raise self.fail(key, f"bad {language} selector {selector!r}: {one_line(error)}") from None
        return Query(key, selector, xpath, pattern, html, exclude)

    def pattern(self, key: str, value: Any) -> re.Pattern[str]:
        if not isinstance(value, str):
            raise self.fail(key, f"expected a regex string, got {_kind(value)}")
        try:
            return re.compile(value)
        except re.error as error:
            raise self.fail(key, f"bad regex {value!r}: {error}") from None

    def queries(self, key: str, value: Any, relative: bool = False) -> tuple[Query, ...]:
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list):
            raise self.fail(key, f"expected a selector string or an array of them, got {_kind(value)}")
        return tuple(self.query(f"{key}[{i}]", v, relative=relative) for i, v in enumerate(values))

    def fields(self, key: str, value: Any, relative: bool) -> dict[str, Query]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table of fields, got {_kind(value)}")
        self.known_keys(value, FIELDS, f"{key}.")
        fields = {name: self.query(f"{key}.{name}", v, options=True, relative=relative) for name, v in value.items()}
        for name, query in fields.items():
            # The flows read a review's body as HTML when it is markup; any other field is plain text.
            if query.html and name != "body":
                raise self.fail(f"{key}.{name}.html", "html = true is for the body only")
        return fields

    def text(self, key: str, value: Any) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {_kind(value)}")
        if not value.strip():
            raise self.fail(key, "empty")
        return value

    def start_urls(self, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail("start_urls", f"expected an array of URLs, got {_kind(value)}")
        for i, url in enumerate(value):
            parts = urlsplit(url) if isinstance(url, str) else None
            if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
                raise self.fail(f"start_urls[{i}]", f"expected an http(s) URL, got {url!r}")
            if "," in url:  # the crawl is handed its start URLs joined by commas
                raise self.fail(f"start_urls[{i}]", f"{url!r} holds a comma, which the crawler reads as a separator "
                                                    "between URLs; write it as %2C")
        return tuple(value)

    def scale(self, value: Any) -> tuple[str, str]:
        if not isinstance(value, dict):
            raise self.fail("rating_scale", f"expected a table with best and worst, got {_kind(value)}")
        self.known_keys(value, SCALE_KEYS, "rating_scale.")
        numbers = []
        for name in SCALE_KEYS:
            number = value.get(name)
            if number is None:
                raise self.fail(f"rating_scale.{name}", "missing; a scale needs both best and worst")
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise self.fail(f"rating_scale.{name}", f"expected a number, got {_kind(number)}")
            if not math.isfinite(number):
                raise self.fail(f"rating_scale.{name}", f"expected a finite number, got {number}")
            numbers.append(number)
        if numbers[0] <= numbers[1]:
            raise self.fail("rating_scale", f"best ({numbers[0]}) must be above worst ({numbers[1]})")
        return str(numbers[0]), str(numbers[1])

    def profile(self, data: dict[str, Any]) -> Profile:
        self.known_keys(data, TOP_KEYS)
        if "reviews" not in data:
            raise self.fail("reviews", "missing; the selector of one review's element is required")
        reviews = self.query("reviews", data["reviews"])
        fields = self.fields("fields", data.get("fields", {}), relative=True)
        page_fields = self.fields("page_fields", data.get("page_fields", {}), relative=False)
        audience = data.get("audience")
        if audience is not None and audience not in AUDIENCES:
            raise self.fail("audience", f"expected one of {', '.join(AUDIENCES)}, got {audience!r}")
        best, worst = self.scale(data["rating_scale"]) if "rating_scale" in data else (None, None)
        date_order = data.get("date_order")
        date_order = date_order.strip().upper() if isinstance(date_order, str) else date_order
        if date_order is not None and date_order not in DATE_ORDERS:
            raise self.fail("date_order", f"expected DMY (day first, 25/01/2024) or MDY (month first, 01/25/2024), "
                                          f"got {date_order!r}")
        named = fields.keys() | page_fields.keys()
        # What the landing pipeline would refuse every item for: better said once, now, than per review.
        if not named & {"film_title", *EXTERNAL_IDS}:
            raise self.fail("fields", "no film_title, imdb_id or tmdb_id: every review would lack its film")
        if not named & {"body", "rating", "rating_value"}:
            raise self.fail("fields", "no body, rating or rating_value: every review would be empty")
        if "rating_value" in named and best is None:
            raise self.fail("fields.rating_value", "a number needs its scale: add [rating_scale] best and worst")
        return Profile(
            path=self.path, reviews=reviews, fields=fields, page_fields=page_fields,
            next_pages=self.queries("next_pages", data.get("next_pages", [])),
            follow=self.queries("follow", data.get("follow", [])),
            start_urls=self.start_urls(data.get("start_urls", [])),
            audience=audience,
            outlet=self.text("outlet", data["outlet"]) if "outlet" in data else None,
            rating_best=best, rating_worst=worst, date_order=date_order,
        )


def load_profile(path: str | Path) -> Profile:
    """Read and check a profile file; any mistake is a ProfileError naming the file and key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # utf-8-sig: Notepad writes a BOM
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such profile file") from None
    except OSError as error:
        raise ProfileError(f"{path}: cannot read it ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise ProfileError(f"{path}: not TOML: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"{path}: not TOML: {one_line(error)}") from None
    return _Reader(path).profile(data)
