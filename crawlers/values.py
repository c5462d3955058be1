"""Read one published schema.org value as the text an item field holds: a name, a link, a language, ids.

Kept apart from crawlers.extraction, which walks a page's objects and builds items, because these
rules are about the shapes one value takes (a string, a list, an object, a PropertyValue), not about
reviews. Nothing here cleans text: values stay as published, links are resolved against their page.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from crawlers.references import is_web_address
from crawlers.structured import short_type

_IMDB = re.compile(r"\b(tt\d{5,10})\b")
_TMDB = re.compile(r"themoviedb\.org/movie/(\d+)")
_NOT_LINKS = {"javascript", "vbscript", "data"}  # scripts and inline content, never a review's address


def as_text(value: Any) -> str | None:
    """A published value as text; lists give their first element, objects their name or value."""
    if value is None:
        return None
    if isinstance(value, list):
        return as_text(value[0]) if value else None
    if isinstance(value, dict):
        for key in ("name", "value", "@value", "@id", "url"):
            if key in value:
                return as_text(value[key])
        return None
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def as_name(value: Any) -> str | None:
    """A person's or organization's name as `as_text` reads it, but never an object's `@id`: that
    identifies a node (a reference the page did not resolve), and a critic called
    "https://ex.test/#person-jane" is no critic. A Person published with givenName and familyName but
    no name is called by both, as schema.org means them."""
    if isinstance(value, list):
        return as_name(value[0]) if value else None
    if isinstance(value, dict):
        if not (as_text(value.get("name")) or "").strip():
            parts = [(as_text(value.get(key)) or "").strip() for key in ("givenName", "familyName")]
            if any(parts):
                return " ".join(part for part in parts if part)
        return as_text({key: found for key, found in value.items() if key != "@id"})
    return as_text(value)


def as_author_name(value: Any) -> str | None:
    """An author's name as `as_name` reads it, but never its `url` either: an author published with only
    an address (`{"@type": "Person", "url": "/users/jdoe"}`, a microdata Person with only a url link) has
    no name, and the address is its critic_url. A name made from the address ("jdoe") would be a guess the
    page did not publish, and would part one critic in two where other pages give the name itself."""
    if isinstance(value, list):
        return as_author_name(value[0]) if value else None
    if isinstance(value, dict):
        return as_name({key: found for key, found in value.items() if key != "url"})
    return as_name(value)


def as_link(value: Any, base: str) -> str | None:
    """A published link resolved against the page's base URL.

    Empty values and script or data pseudo-URLs give None; absolute URLs of other schemes
    (`urn:`, `mailto:`) and JSON-LD blank nodes (`_:b0`) are no page addresses to resolve, so
    they are kept as published.
    """
    text = (as_text(value) or "").strip()
    if not text:
        return None
    if text.startswith("_:"):
        return text
    try:
        scheme = urlsplit(text).scheme
        if scheme in _NOT_LINKS:
            return None
        return text if scheme else urljoin(base, text)
    except ValueError:  # e.g. an invalid IPv6 host: keep what the page said
        return text


def as_language(value: Any) -> str | None:
    """A review's inLanguage: a code as published, or a Language object's code (`alternateName`, which
    schema.org's examples give as the BCP 47 code) before its name ("French")."""
    if isinstance(value, list):
        return as_language(value[0]) if value else None
    if isinstance(value, dict) and as_text(value.get("alternateName")):
        return as_text(value.get("alternateName"))
    return as_text(value)


def listed(value: Any) -> list[Any]:
    """A property's values as a list: one value published alone, or none."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def first_dict(value: Any) -> dict[str, Any] | None:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, dict)), None)
    return value if isinstance(value, dict) else None


def as_node(value: Any) -> Any:
    """A web address where an object belongs (`"author": "https://…#jane"`) read as a reference to the
    node with that @id: an address is no name or title."""
    if isinstance(value, list):
        return [as_node(v) for v in value]
    if isinstance(value, str) and is_web_address(value):
        return {"@id": value.strip()}
    return value


def is_organization(node: dict[str, Any]) -> bool:
    """An Organization (or a kind of one: NewsMediaOrganization, Corporation) and not also a Person."""
    types = short_type(node.get("@type"))
    return "Person" not in types and any(t.endswith("Organization") or t == "Corporation" for t in types)


def _id_candidates(film: dict[str, Any], base: str) -> list[tuple[str, str]]:
    """(what the page says the value is, the value) for every place a film publishes an id: each
    sameAs and identifier (a PropertyValue gives its value, named by its propertyID or name), then its
    @id and url resolved against the page (IMDb's own pages give `/title/tt…/`)."""
    found: list[tuple[str, str]] = []
    for value in [*listed(film.get("sameAs")), *listed(film.get("identifier"))]:
        if isinstance(value, dict) and ("value" in value or "@value" in value):
            kind = " ".join(as_text(value.get(key)) or "" for key in ("propertyID", "name"))
            found.append((kind.lower(), as_text(value.get("value", value.get("@value"))) or ""))
        else:
            found.append(("", as_text(value) or ""))
    found.extend(("", as_link(film.get(key), base) or "") for key in ("@id", "url"))
    return found


def external_ids(film: dict[str, Any], base: str) -> dict[str, str]:
    """The film's IMDb and TMDb ids, the first one published of each."""
    ids: dict[str, str] = {}
    for kind, text in _id_candidates(film, base):
        text = text.strip()
        if "imdb" in text or "imdb" in kind or text.startswith("tt"):
            match = _IMDB.search(text)
            if match:
                ids.setdefault("imdb", match.group(1))
        match = _TMDB.search(text)
        if match:
            ids.setdefault("tmdb", match.group(1))
        elif ("tmdb" in kind or "themoviedb" in kind) and text.isdigit():
            ids.setdefault("tmdb", text)
    return ids
