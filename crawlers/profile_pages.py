"""Reading one page with a site profile (crawlers.profiles): its reviews, and the links it says to follow.

The profile spider and `reviews extract --profile` both call extract_with_profile, so what a user tries on a
saved page is what a crawl lands.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import html_text
from lxml import etree
from lxml_html_clean import Cleaner
from parsel import Selector

from crawlers.items import ReviewItem
from crawlers.profiles import EXTERNAL_IDS, FIELDS, LINK_FIELDS, Profile, Query, one_line

# What a reader of the page does not see as text: scripts, styles, templates and what shows only
# without JavaScript. Attributes stay (javascript=False): the text needs none of them.
_INVISIBLE = Cleaner(scripts=True, javascript=False, comments=True, style=True, links=False, meta=False,
                     page_structure=False, processing_instructions=True, embedded=False, frames=False,
                     forms=False, annoying_tags=False, remove_unknown_tags=False, safe_attrs_only=False,
                     kill_tags=["noscript", "template"])
# Items whose body is markup (html = true, allowed on body only) say so, so the flows read it as HTML.
HTML_SYNTAX, TEXT_SYNTAX = "profile-html", "profile"


@dataclass
class ProfilePage:
    """What a profile finds on one page. `errors` are selectors that failed on this page's markup."""

    reviews: list[ReviewItem]
    next_pages: list[str]
    follow: list[str]
    errors: list[str] = field(default_factory=list)
    # The ids the site gave its reviews (None where a review's key was made from its url): only these say
    # that a page's reviews are all known already (ReviewSpiderMixin.all_known).
    site_ids: list[str | None] = field(default_factory=list)


def _select(node: Selector, query: Query) -> list[Selector]:
    return list(node.xpath(query.selector) if query.xpath else node.css(query.selector))


def _is_element(node: Selector) -> bool:
    # Text nodes, attributes and XPath strings or numbers come back as plain Python values.
    return not isinstance(node.root, str | int | float | bool)


@contextmanager
def _set_aside(elements: list[etree._Element]) -> Iterator[None]:
    """The elements taken out of the page while something is read (a review's fields without its nested
    replies, a field without what it excludes), then put back as they were. What is read stays in the page, so
    a field may still look outside its review (`ancestor::section/h2`). The text after each element is handed
    to what precedes it meanwhile (lxml's remove() would take it away). An element listed twice, or inside
    one already taken out, is taken out with it."""
    undo = []
    for element in elements:
        parent = element.getparent()
        if parent is None:
            continue
        index, tail, previous = parent.index(element), element.tail, element.getprevious()
        before = previous.tail if previous is not None else parent.text
        if tail:
            if previous is not None:
                previous.tail = (before or "") + tail
            else:
                parent.text = (before or "") + tail
        parent.remove(element)
        element.tail = tail
        undo.append((parent, index, element, previous, before))
    try:
        yield
    finally:
        for parent, index, element, previous, before in reversed(undo):
            parent.insert(index, element)
            if previous is not None:
                previous.tail = before
            else:
                parent.text = before


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
        with _set_aside(excluded):
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
    markup = any(q.html for q in (profile.fields.get("body"), profile.page_fields.get("body")) if q)
    item = ReviewItem(source=source, url=url, outlet=profile.outlet, audience=profile.audience, page_url=url,
                      syntax=HTML_SYNTAX if markup else TEXT_SYNTAX,
                      external_ids={FIELDS[name]: value for name in EXTERNAL_IDS if (value := values.get(name))})
    for name, value in values.items():
        if value is not None and name not in EXTERNAL_IDS:
            setattr(item, FIELDS[name], value)
    if profile.rating_best is not None and (item.rating_raw or item.rating_value):
        if "rating_value" not in profile.fields.keys() | profile.page_fields.keys():
            item.rating_value = item.rating_raw  # the rating itself is the number on the profile's scale
        item.rating_best, item.rating_worst = profile.rating_best, profile.rating_worst
    return item


def _nested(node: Selector, reviews: set[etree._Element]) -> list[etree._Element]:
    """The review elements inside `node` (replies in a thread): not part of its fields. One walk of its
    subtree, so a page of thousands of reviews stays linear."""
    return [element for element in node.root.iterdescendants() if element in reviews]


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
        matched = _select(page, profile.reviews)
    except ValueError as error:
        matched = []
        errors.append(f"reviews: {one_line(error)}")
    found = [node for node in matched if _is_element(node)]
    if matched and not found:
        errors.append("reviews: matched text or attributes, not elements")
    review_elements = {node.root for node in found}
    for node in found:
        with _set_aside(_nested(node, review_elements)):
            values = _values(node, profile.fields, base, errors)
        merged = {name: values.get(name) or page_values.get(name) for name in values.keys() | page_values.keys()}
        reviews.append(_review(merged, url, source, profile))
    site_ids = [review.source_review_id for review in reviews]
    _key_reviews_without_ids(reviews, url)
    return ProfilePage(reviews, _links(page, profile.next_pages, base, errors),
                       _links(page, profile.follow, base, errors), errors, site_ids)


def _key_reviews_without_ids(reviews: list[ReviewItem], page_url: str) -> None:
    """Keys for the reviews a site gave no id. One with a permalink of its own is keyed
    `<url>#<critic>|<film>`, as the flows key any review without an id. One without (only the page it is on,
    or a link it shares with others) is known by what it says: `<critic>|<film>|<year>#` and a digest of its
    rating and text, a key that stays the same when a new review pushes it to page 2, where a key from the
    page's url and its place there would name another review each week. So an edit of such a review reads as
    a new review; reviews alike in every word on one page are numbered `#2`, `#3` in page order."""
    permalinks = Counter(review.url for review in reviews if review.url != page_url)
    alike: Counter[str] = Counter()
    for review in reviews:
        if review.source_review_id:
            continue
        who_what = f"{review.critic_name or ''}|{review.film_title or ''}"
        if review.url != page_url and permalinks[review.url] == 1:
            review.source_review_id = f"{review.url}#{who_what}"
            continue
        said = "\n".join(value or "" for value in (review.rating_raw, review.rating_value, review.body))
        digest = hashlib.sha1(said.encode("utf-8", "backslashreplace")).hexdigest()[:16]
        key = f"{who_what}|{review.film_year or ''}#{digest}"
        # Reviews alike in every word on one page (two anonymous 5/5s) are still two: numbered in page order.
        alike[key] += 1
        review.source_review_id = key if alike[key] == 1 else f"{key}#{alike[key]}"
