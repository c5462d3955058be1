r"""Declarative site profiles: one small TOML file per site says where its reviews are, so a user adds a
site without writing Python (the `profile` spider, crawlers/spiders/profile.py, crawls with one).

Kept free of Scrapy (parsel only, which Scrapy ships) so the flows and the command line can check a
profile before a crawl starts, and try one on a saved page, through the same code the spider runs.

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
body = { css = ".text", html = true }

[page_fields]                        # optional: the same fields, read once from the whole page, for
film_title = "h1::text"              # reviews that lack them (a film page whose reviews do not name it)

[rating_scale]                       # optional: what rating_value (or a bare-number rating) is out of
best = 10
worst = 0
```

Fields: source_review_id, url, film_title, film_year, imdb_id, tmdb_id, critic_name, critic_url, outlet,
rating (-> rating_raw), rating_value, title (-> review_title), body, published (-> published_raw),
language (-> language_declared). A review without a `url` gets the page's; without `source_review_id`
it gets none (the flows key it). With `[rating_scale]`, items carry it as rating_best/rating_worst, and
rating_value is the `rating_value` field, else the `rating` field's value.

Selectors: CSS by default (with parsel's `::text` and `::attr(name)`), XPath after an `xpath:` prefix;
review fields take relative XPath (`.//a`, not `//a`). A field is a selector string or a table
`{css = "..."}` / `{xpath = "..."}` with `pattern` (a regex: its first group, or else its whole match,
is the value) and `html` (true: an element's inner markup, not its text). A field reads the first node
its selector matches: an attribute or text node as it is, an element as all its text joined. Values are
kept as published, only stripped of surrounding whitespace: the flows clean, score and parse dates.
Links to follow are every match, an element giving its href.

`load_profile` checks the whole file before anything is crawled: unknown keys, types, selectors and
regexes that do not compile, and profiles whose every item the landing pipeline would refuse (no film
field; no body or rating) or misread (a rating_value without a scale).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from cssselect import SelectorError
from parsel import Selector

from crawlers.items import AUDIENCES, ReviewItem

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
            "rating_scale")
QUERY_KEYS = ("css", "xpath", "pattern", "html")
SCALE_KEYS = ("best", "worst")
XPATH_PREFIX = "xpath:"
# Selectors are compiled against an empty page when a profile is loaded: parsel raises on a bad one only
# when it is first used, which would be mid-crawl, on every page.
_EMPTY_PAGE = Selector(text="<html/>")


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


@dataclass
class ProfilePage:
    """What a profile finds on one page. `errors` are selectors that failed on this page's markup."""

    reviews: list[ReviewItem]
    next_pages: list[str]
    follow: list[str]
    errors: list[str] = field(default_factory=list)


def _kind(value: Any) -> str:
    kinds = ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"),
             (list, "an array"), (dict, "a table"))
    return next((name for cls, name in kinds if isinstance(value, cls)), "a date")


def _one_line(error: Exception) -> str:
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
        pattern, html = None, False
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
        elif isinstance(value, str):
            xpath = value.startswith(XPATH_PREFIX)
            selector = value.removeprefix(XPATH_PREFIX)
        else:
            wanted = "a selector string or a table {css|xpath, pattern, html}" if options else "a selector string"
            raise self.fail(key, f"expected {wanted}, got {_kind(value)}")
        if not selector.strip():
            raise self.fail(key, "empty selector")
        if xpath and relative and selector.lstrip().startswith("/"):
            raise self.fail(key, f"XPath {selector!r} searches the whole page, not the review: start it with '.' "
                                 "(.//a), or read it in [page_fields]")
        try:
            _EMPTY_PAGE.xpath(selector) if xpath else _EMPTY_PAGE.css(selector)
        except (SelectorError, ValueError) as error:
            language = "XPath" if xpath else "CSS"
            raise self.fail(key, f"bad {language} selector {selector!r}: {_one_line(error)}") from None
        return Query(key, selector, xpath, pattern, html)

    def pattern(self, key: str, value: Any) -> re.Pattern[str]:
        if not isinstance(value, str):
            raise self.fail(key, f"expected a regex string, got {_kind(value)}")
        try:
            return re.compile(value)
        except re.error as error:
            raise self.fail(key, f"bad regex {value!r}: {error}") from None

    def queries(self, key: str, value: Any) -> tuple[Query, ...]:
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list):
            raise self.fail(key, f"expected a selector string or an array of them, got {_kind(value)}")
        return tuple(self.query(f"{key}[{i}]", v) for i, v in enumerate(values))

    def fields(self, key: str, value: Any, relative: bool) -> dict[str, Query]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table of fields, got {_kind(value)}")
        self.known_keys(value, FIELDS, f"{key}.")
        return {name: self.query(f"{key}.{name}", v, options=True, relative=relative) for name, v in value.items()}

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
            rating_best=best, rating_worst=worst,
        )


def load_profile(path: str | Path) -> Profile:
    """Read and check a profile file; any mistake is a ProfileError naming the file and key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such profile file") from None
    except OSError as error:
        raise ProfileError(f"{path}: cannot read it ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise ProfileError(f"{path}: not TOML: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"{path}: not TOML: {_one_line(error)}") from None
    return _Reader(path).profile(data)


def _select(node: Selector, query: Query) -> list[Selector]:
    return list(node.xpath(query.selector) if query.xpath else node.css(query.selector))


def _is_element(node: Selector) -> bool:
    # Text nodes, attributes and XPath strings or numbers come back as plain Python values.
    return not isinstance(node.root, str | int | float | bool)


def _value(node: Selector, query: Query) -> str | None:
    """The query's value in `node`, as published (outer whitespace aside); None when nothing matches."""
    found = _select(node, query)
    if not found:
        return None
    first = found[0]
    if not _is_element(first):
        text = first.get()
    elif query.html:
        text = "".join(first.xpath("node()").getall())
    else:
        text = "".join(first.xpath(".//text()").getall())
    if query.pattern is not None:
        match = query.pattern.search(text)
        if match is None:
            return None
        text = match.group(1) if query.pattern.groups else match.group(0)
        if text is None:  # the group did not take part in the match
            return None
    return text.strip() or None


def _links(page: Selector, queries: tuple[Query, ...], base: str, errors: list[str]) -> list[str]:
    links: list[str] = []
    for query in queries:
        try:
            found = _select(page, query)
        except ValueError as error:
            errors.append(f"{query.key}: {_one_line(error)}")
            continue
        for node in found:
            href = node.xpath("@href").get() if _is_element(node) else node.get()
            url = urljoin(base, href.strip()) if href and href.strip() else None
            # A fragment or script link leads nowhere new; only web pages are crawled.
            if url and urlsplit(url).scheme in ("http", "https") and url not in links:
                links.append(url)
    return links


def _values(node: Selector, queries: dict[str, Query], base: str, errors: list[str]) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for name, query in queries.items():
        try:
            value = _value(node, query)
        except ValueError as error:  # an XPath that compiles may still fail on some markup
            errors.append(f"{query.key}: {_one_line(error)}")
            value = None
        values[name] = urljoin(base, value) if value and name in LINK_FIELDS else value
    return values


def _review(values: dict[str, str | None], url: str, source: str, profile: Profile) -> ReviewItem:
    item = ReviewItem(source=source, url=url, outlet=profile.outlet, audience=profile.audience, page_url=url,
                      syntax="profile",
                      external_ids={FIELDS[name]: value for name in EXTERNAL_IDS if (value := values.get(name))})
    for name, value in values.items():
        if value is not None and name not in EXTERNAL_IDS:
            setattr(item, FIELDS[name], value)
    if profile.rating_best is not None and (item.rating_raw or item.rating_value):
        if "rating_value" not in profile.fields.keys() | profile.page_fields.keys():
            item.rating_value = item.rating_raw  # the rating itself is the number on the profile's scale
        item.rating_best, item.rating_worst = profile.rating_best, profile.rating_worst
    return item


def extract_with_profile(html: str, url: str, source: str, profile: Profile) -> ProfilePage:
    """The reviews of one page as `profile` reads them, and the links it says to follow from it."""
    errors: list[str] = []
    try:
        page = Selector(text=html or "<html/>")
    except (ValueError, TypeError) as error:  # markup lxml refuses outright
        return ProfilePage([], [], [], [f"page unreadable: {_one_line(error)}"])
    base = urljoin(url, (page.xpath("//base/@href").get() or "").strip())
    page_values = _values(page, profile.page_fields, base, errors)
    reviews = []
    try:
        found = _select(page, profile.reviews)
    except ValueError as error:
        found = []
        errors.append(f"reviews: {_one_line(error)}")
    for node in found:
        if not _is_element(node):
            errors.append(f"reviews: matched {node.get()!r}, not an element")
            continue
        values = _values(node, profile.fields, base, errors)
        merged = {name: values.get(name) or page_values.get(name) for name in values.keys() | page_values.keys()}
        reviews.append(_review(merged, url, source, profile))
    return ProfilePage(reviews, _links(page, profile.next_pages, base, errors),
                       _links(page, profile.follow, base, errors), errors)
