"""Follow JSON-LD node references (`{"@id": "…#movie"}`) across all the JSON-LD blocks of one page.

Yoast SEO and other WordPress plugins publish one flat `@graph` in which nodes name each other only
by `@id`: a Review's `itemReviewed` is `{"@id": "…#movie"}` and its `author` `{"@id": "…#person"}`,
the Movie and the Person being defined elsewhere in the graph, or in another block of the page.
Kept apart from extraction.py because it is about JSON-LD's linking, not about reviews.

References are followed one step at a time, when the extractor reads a property, so a cycle (a Movie
whose `review` names a Review whose `itemReviewed` names the Movie) cannot loop, and a node that
names itself is not followed. A reference to a node the page does not define is returned as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

_KEYWORDS = {"@id", "@type", "@context"}
_MAX_DEPTH = 12  # as deep as structured.py rebuilds RDFa; deeper nesting is no markup a site means
_WEB = {"http", "https"}


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


class NodeIndex:
    """The page's JSON-LD node definitions by `@id`."""

    def __init__(self, objects: Iterable[Any] = ()) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        for obj in objects:
            self._collect(obj, 0)

    def _collect(self, value: Any, depth: int) -> None:
        if depth > _MAX_DEPTH:
            return
        if isinstance(value, list):
            for child in value:
                self._collect(child, depth + 1)
            return
        if not isinstance(value, dict):
            return
        key = node_id(value)
        if key and not is_reference(value):
            known = self.nodes.get(key)
            # JSON-LD merges the definitions of one @id; where both say something, the first one wins.
            self.nodes[key] = value if known is None or known is value else {**value, **known}
        for name, child in value.items():
            if name != "@context":  # term definitions there have @ids too, of vocabulary terms, not of nodes
                self._collect(child, depth + 1)

    def node(self, value: Any, owner: dict[str, Any] | None = None) -> Any:
        """What `value` stands for: the node a reference names (or all that the page says about a node with
        that @id), else `value` itself. A reference to nothing, or to `owner` itself, stays as it is."""
        key = node_id(value)
        if key is None or (owner is not None and key == node_id(owner)):
            return value
        return self.nodes.get(key, value)

    def resolve(self, value: Any, owner: dict[str, Any] | None = None) -> Any:
        """`node` for a property's value, which may be a list of values."""
        if isinstance(value, list):
            return [self.node(v, owner) for v in value]
        return self.node(value, owner)
