"""Follow JSON-LD node references (`{"@id": "…#movie"}`) across all the JSON-LD blocks of one page.

Yoast SEO and other WordPress plugins publish one flat `@graph` in which nodes name each other only
by `@id`: a Review's `itemReviewed` is `{"@id": "…#movie"}` and its `author` `{"@id": "…#person"}`,
the Movie and the Person being defined elsewhere in the graph, or in another block of the page.
Kept apart from extraction.py because it is about JSON-LD's linking, not about reviews (but for one
rule: two Review definitions of one @id that name different authors, bodies or ratings are two reviews).

References are followed one step at a time, when the extractor reads a property, so a cycle (a Movie
whose `review` names a Review whose `itemReviewed` names the Movie) cannot loop, and a node that
names itself is not followed. A reference to a node the page does not define is returned as it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urljoin, urlsplit

from crawlers.structured import short_type

_KEYWORDS = {"@id", "@type", "@context"}
_MAX_DEPTH = 12  # as deep as structured.py rebuilds RDFa; deeper nesting is no markup a site means
_WEB = {"http", "https"}
REVIEW_TYPES = {"Review", "CriticReview", "UserReview"}
# What makes a review the review it is: two Review definitions of one @id that disagree on one of these
# are two reviews (a template giving every review of a page the same @id), not one to merge.
_REVIEW_CONTENT = ("author", "reviewBody", "reviewRating")
# The properties the extractor walks to find reviews (crawlers.extraction): two definitions of one node
# give both their entries. `about` and `subjectOf` link a page or thing to what it describes
# (WebPage.about -> Movie, Movie.subjectOf -> Review).
FOLLOWED = ("review", "reviews", "itemListElement", "item", "mainEntity", "hasPart", "about", "subjectOf")


def is_web_address(text: str) -> bool:
    """True for an absolute http(s) URL: an address, never a name or a title."""
    try:
        parts = urlsplit(text.strip())
    except ValueError:
        return False
    return parts.scheme in _WEB and bool(parts.netloc)


def node_id(value: Any) -> str | None:
    """The `@id` of a JSON-LD object, if it has one."""
    found = value.get("@id") if isinstance(value, dict) else None
    return found if isinstance(found, str) and found.strip() else None


def is_reference(value: Any) -> bool:
    """A bare `{"@id": ...}` (perhaps with its @type): it names a node instead of describing one."""
    return node_id(value) is not None and not (value.keys() - _KEYWORDS)


def absolute_id(key: str, base: str | None) -> str:
    """An @id as the node's IRI: relative to the page (`#movie` is `<page>#movie`), as JSON-LD resolves it
    against the document base. A blank node (`_:b0`) is the page's own name for a node, kept as it is."""
    key = key.strip()
    if not base or key.startswith("_:"):
        return key
    try:
        return urljoin(base, key)
    except ValueError:  # e.g. an invalid IPv6 host: keep what the page said
        return key


def _said(value: Any, base: str | None) -> tuple[str, str]:
    """What an author or rating says, comparable across two definitions: a node by its @id, else by its
    name or value (the first one, as the extractor reads it)."""
    if isinstance(value, list):
        return _said(value[0], base) if value else ("value", "")
    if isinstance(value, dict):
        key = node_id(value)
        if key:
            return "id", absolute_id(key, base)
        for name in ("name", "ratingValue", "@value"):
            if name in value:
                return _said(value[name], base)
        return "value", json.dumps(value, sort_keys=True, default=str)
    return "value", str(value).strip()


def _same_review(known: dict[str, Any], value: dict[str, Any], base: str | None) -> bool:
    """No author, body or rating said differently (a node named by @id on one side and described without
    one on the other may be the same: that is no difference)."""
    for name in _REVIEW_CONTENT:
        if name in known and name in value:
            mine, theirs = _said(known[name], base), _said(value[name], base)
            if mine[0] == theirs[0] and mine != theirs:
                return False
    return True


def _compatible(known: dict[str, Any], value: dict[str, Any], base: str | None) -> bool:
    """Whether two definitions with one @id can be one node: types that overlap (or none on one side),
    no two different identifiers, and for reviews no two different authors, bodies or ratings."""
    types, other = set(short_type(known.get("@type"))), set(short_type(value.get("@type")))
    if types and other and not types & other:
        return False
    if (types | other) & REVIEW_TYPES and not _same_review(known, value, base):
        return False
    mine, theirs = known.get("identifier"), value.get("identifier")
    return not mine or not theirs or mine == theirs


def _merge(known: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    merged = {**value, **known}
    for name in FOLLOWED:
        if name in known and name in value:
            entries = known[name] if isinstance(known[name], list) else [known[name]]
            more = value[name] if isinstance(value[name], list) else [value[name]]
            merged[name] = entries + [entry for entry in more if entry not in entries]
    return merged


class NodeIndex:
    """The page's JSON-LD node definitions by `@id`.

    Two definitions of one @id are merged (JSON-LD's rule) only when they can describe one thing: their
    types overlap or one has none, and they give no different `identifier`. Sites misuse @id (a Review
    given the page's address, which the WebPage node has too; every review of a page given one @id), so
    a definition that cannot be merged starts a node of its own: it stands for itself, and a bare
    reference to that @id names the first one. @ids are compared as IRIs resolved against `base` (the
    page's), so a reference to `#movie` finds the node defined as `https://…/page#movie`."""

    def __init__(self, objects: Iterable[Any] = (), base: str | None = None) -> None:
        self.base = base
        self._groups: dict[str, list[dict[str, Any]]] = {}  # per @id, its merged definitions, first first
        self._group_of: dict[int, tuple[dict[str, Any], str, int]] = {}  # id(definition) -> (it, @id, group)
        for obj in objects:
            self._collect(obj, 0)
        self.nodes = {key: groups[0] for key, groups in self._groups.items()}
        self.conflicting = {key for key, groups in self._groups.items() if len(groups) > 1}

    def _collect(self, value: Any, depth: int) -> None:
        if depth > _MAX_DEPTH:
            return
        if isinstance(value, list):
            for child in value:
                self._collect(child, depth + 1)
            return
        if not isinstance(value, dict):
            return
        key = self.key(value)
        if key and not is_reference(value) and id(value) not in self._group_of:
            groups = self._groups.setdefault(key, [])
            at = next((i for i, known in enumerate(groups) if _compatible(known, value, self.base)), len(groups))
            if at == len(groups):
                groups.append(value)
            else:  # where both say something, the first one wins; the lists the extractor follows are joined
                groups[at] = _merge(groups[at], value)
            self._group_of[id(value)] = (value, key, at)
        for name, child in value.items():
            if name != "@context":  # term definitions there have @ids too, of vocabulary terms, not of nodes
                self._collect(child, depth + 1)

    def key(self, value: Any) -> str | None:
        """The @id of a JSON-LD object as this index compares it (resolved against the page), if it has one."""
        found = node_id(value)
        return absolute_id(found, self.base) if found else None

    def identity(self, node: dict[str, Any]) -> Any:
        """What tells `node` (as `node()` returned it) from other nodes: its @id, unless that @id names
        more than one node, or it has none; then the object itself."""
        key = self.key(node)
        return key if key and key not in self.conflicting else id(node)

    def node(self, value: Any, owner: dict[str, Any] | None = None) -> Any:
        """What `value` stands for: the node a reference names (or all that the page says about a node with
        that @id), else `value` itself. A reference to nothing, or to `owner` itself, stays as it is."""
        key = self.key(value)
        if key is None or (owner is not None and key == self.key(owner)):
            return value
        if not is_reference(value):
            entry = self._group_of.get(id(value))
            if entry is not None and entry[0] is value:
                return self._groups[key][entry[2]]
            if key in self.conflicting:
                return value
        return self.nodes.get(key, value)

    def resolve(self, value: Any, owner: dict[str, Any] | None = None) -> Any:
        """`node` for a property's value, which may be a list of values."""
        if isinstance(value, list):
            return [self.node(v, owner) for v in value]
        return self.node(value, owner)
