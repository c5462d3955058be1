"""Reading one page with a site profile (crawlers.profiles): its reviews, and the links it says to follow.

The profile spider and `reviews extract --profile` both call extract_with_profile, so what a user tries on a
saved page is what a crawl lands.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import html_text
from lxml import etree
from lxml_html_clean import Cleaner
from parsel import Selector

from crawlers.extraction import distinct_keys
from crawlers.items import ReviewItem
from crawlers.profiles import EXTERNAL_IDS, FIELDS, LINK_FIELDS, Profile, Query, one_line

# What a reader of the page does not see as text: scripts, styles, templates and what shows only
# without JavaScript. Attributes stay (javascript=False): the text needs none of them.
_INVISIBLE = Cleaner(scripts=True, javascript=False, comments=True, style=True, links=False, meta=False,
                     page_structure=False, processing_instructions=True, embedded=False, frames=False,
                     forms=False, annoying_tags=False, remove_unknown_tags=False, safe_attrs_only=False,
                     kill_tags=["noscript", "template"])
# Items whose title or body is markup (html = true) say so, so the flows read them as HTML.
HTML_SYNTAX, TEXT_SYNTAX = "profile-html", "profile"


@dataclass
class ProfilePage:
    """What a profile finds on one page. `errors` are selectors that failed on this page's markup."""

    reviews: list[ReviewItem]
    next_pages: list[str]
    follow: list[str]
    errors: list[str] = field(default_factory=list)


def _select(node: Selector, query: Query) -> list[Selector]:
    return list(node.xpath(query.selector) if query.xpath else node.css(query.selector))


def _is_element(node: Selector) -> bool:
    # Text nodes, attributes and XPath strings or numbers come back as plain Python values.
    return not isinstance(node.root, str | int | float | bool)


@contextmanager
def _detached(elements: list[etree._Element]) -> Iterator[None]:
    """The elements taken out of the page for a while (each keeps its tail text, which lxml moves with it),
    then put back where they were."""
    places = []
    for element in elements:
        parent = element.getparent()
        if parent is not None:
            places.append((parent, parent.index(element), element))
    for parent, _, element in places:
        parent.remove(element)
    try:
        yield
    finally:
        for parent, index, element in reversed(places):
            parent.insert(index, element)


def _text(element: etree._Element) -> str:
    """The text a reader sees in an element: without scripts and styles, a line break between blocks."""
    return html_text.etree_to_text(_INVISIBLE.clean_html(element))  # clean_html cleans a copy


def _value(node: Selector, query: Query) -> str | None:
    """The query's value in `node`, as published (outer whitespace aside); None when nothing matches."""
    found = _select(node, query)
    if not found:
        return None
    first = found[0]
    if not _is_element(first):
        text = first.get()
    else:
        excluded = [n.root for q in query.exclude for n in _select(first, q) if _is_element(n)]
        with _detached(excluded):
            text = "".join(first.xpath("node()").getall()) if query.html else _text(first.root)
    if query.pattern is not None:
        match = query.pattern.search(text)
        if match is None:
            return None
        text = match.group(1) if query.pattern.groups else match.group(0)
        if text is None:  # the group did not take part in the match
            return None
    return text.strip() or None


def _web_link(base: str, value: str) -> str | None:
    """`value` resolved against the page; None for what is no web page (javascript:, mailto:, a bare #)."""
    url = urljoin(base, value.strip())
    return url if urlsplit(url).scheme in ("http", "https") else None


def _links(page: Selector, queries: tuple[Query, ...], base: str, errors: list[str]) -> list[str]:
    links: list[str] = []
    for query in queries:
        try:
            found = _select(page, query)
        except ValueError as error:
            errors.append(f"{query.key}: {one_line(error)}")
            continue
        for node in found:
            href = node.xpath("@href").get() if _is_element(node) else node.get()
            url = _web_link(base, href) if href and href.strip() else None
            if url and url not in links:
                links.append(url)
    return links


def _values(node: Selector, queries: dict[str, Query], base: str, errors: list[str]) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for name, query in queries.items():
        try:
            value = _value(node, query)
        except ValueError as error:  # an XPath that compiles may still fail on some markup
            errors.append(f"{query.key}: {one_line(error)}")
            value = None
        values[name] = _web_link(base, value) if value and name in LINK_FIELDS else value
    return values


def _review(values: dict[str, str | None], url: str, source: str, profile: Profile) -> ReviewItem:
    markup = any(q.html for name, q in (*profile.fields.items(), *profile.page_fields.items())
                 if name in ("title", "body"))
    item = ReviewItem(source=source, url=url, outlet=profile.outlet, audience=profile.audience, page_url=url,
                      syntax=HTML_SYNTAX if markup else TEXT_SYNTAX,
                      external_ids={FIELDS[name]: value for name in EXTERNAL_IDS if (value := values.get(name))})
    for name, value in values.items():
        if value is not None and name not in EXTERNAL_IDS:
            setattr(item, FIELDS[name], value)
    # Without an id of its own a review is known by its url, as a schema.org review is (distinct_keys then
    # tells apart several reviews that share one).
    item.source_review_id = item.source_review_id or item.url
    if profile.rating_best is not None and (item.rating_raw or item.rating_value):
        if "rating_value" not in profile.fields.keys() | profile.page_fields.keys():
            item.rating_value = item.rating_raw  # the rating itself is the number on the profile's scale
        item.rating_best, item.rating_worst = profile.rating_best, profile.rating_worst
    return item


def _nested(node: Selector, found: list[Selector]) -> list[etree._Element]:
    """The review elements inside `node` (replies in a thread): not part of its fields."""
    return [other.root for other in found
            if other.root is not node.root and any(a is node.root for a in other.root.iterancestors())]


def extract_with_profile(html: str, url: str, source: str, profile: Profile) -> ProfilePage:
    """The reviews of one page as `profile` reads them, and the links it says to follow from it."""
    errors: list[str] = []
    try:
        # type="html": parsel would read a page that starts with <?xml (XHTML) as namespaced XML, where no
        # selector matches, and a JSON answer as JSON.
        page = Selector(text=html or "<html/>", type="html")
    except (ValueError, TypeError) as error:  # markup lxml refuses outright
        return ProfilePage([], [], [], [f"page unreadable: {one_line(error)}"])
    base = urljoin(url, (page.xpath("//base/@href").get() or "").strip())
    page_values = _values(page, profile.page_fields, base, errors)
    reviews = []
    try:
        found = [node for node in _select(page, profile.reviews) if _is_element(node)]
    except ValueError as error:
        found = []
        errors.append(f"reviews: {one_line(error)}")
    if not found and _select_texts(page, profile):
        errors.append("reviews: matched text or attributes, not elements")
    for node in found:
        with _detached(_nested(node, found)):
            values = _values(node, profile.fields, base, errors)
        merged = {name: values.get(name) or page_values.get(name) for name in values.keys() | page_values.keys()}
        reviews.append(_review(merged, url, source, profile))
    distinct_keys(reviews)
    return ProfilePage(reviews, _links(page, profile.next_pages, base, errors),
                       _links(page, profile.follow, base, errors), errors)


def _select_texts(page: Selector, profile: Profile) -> bool:
    try:
        return bool(_select(page, profile.reviews))
    except ValueError:
        return False
