"""Read schema.org objects from a page, in JSON-LD, microdata and RDFa, leniently.

Real pages wrap JSON-LD in `/* <![CDATA[ */` or HTML comments, ship blocks with trailing
commas or comments, and sometimes a block that no parser can read. Each block is parsed on
its own so one broken block never costs the page its other blocks; the failure is reported
back as a message instead of being raised.

Every syntax comes out in one shape: plain dicts with a short `@type` ("Review", "Movie")
and nested dicts for nested items, as JSON-LD publishes them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import jstyleson
import lxml.html
from extruct.rdfa import RDFaExtractor
from extruct.utils import parse_xmldom_html
from extruct.w3cmicrodata import MicrodataExtractor
from w3lib.html import strip_html5_whitespace

SCHEMA_PREFIX = re.compile(r"^https?://schema\.org/")
# schema.org's own JSON-LD context defines the `schema:` prefix, so "schema:Review" is a Review there
# too, and no page means anything else by it.
_TYPE_PREFIX = re.compile(r"^(?:https?://schema\.org/|schema:)")
_CURIE = "schema:"
SCHEMA_URLS = ("https://schema.org/", "http://schema.org/")
_WRAPPERS = re.compile(r"/\*\s*<!\[CDATA\[\s*\*/|/\*\s*\]\]>\s*\*/|<!\[CDATA\[|\]\]>|<!--|-->|^\s*//.*$", re.M)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_MAX_DEPTH = 12
_LINK_PROPERTIES = {"url", "sameAs", "image"}
_XML_LANG = "xml:lang"
# Carry an RDFa item's element language and place in the page into the graph (_mark_rdfa_elements). The
# `.invalid` domain is reserved (RFC 2606), so no page's own property can be one of these.
_ELEMENT_LANG = "http://film-reviews.invalid/elementLang"
_ELEMENT_PLACE = "http://film-reviews.invalid/elementPlace"
_VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                  "wbr"}


@dataclass
class PageData:
    objects: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (syntax, object)
    errors: list[str] = field(default_factory=list)
    # (reason, text) of markup that may have held reviews but could not be read: kept verbatim, not dropped.
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    # id(object) -> the `lang` of the element its markup sits in, for the objects that have one (see _element_lang).
    languages: dict[int, str] = field(default_factory=dict)


def short_type(value: Any) -> list[str]:
    """Types as short names: 'http://schema.org/Review' -> 'Review'."""
    types = value if isinstance(value, list) else [value]
    return [_TYPE_PREFIX.sub("", str(t)) for t in types if t]


def parse_jsonld_block(text: str) -> Any:
    """Parse one JSON-LD block, tolerating wrappers, comments and trailing commas."""
    try:
        return json.loads(text, strict=False)
    except ValueError:
        pass
    unwrapped = _WRAPPERS.sub("", text).strip()
    try:
        return json.loads(unwrapped, strict=False)
    except ValueError:
        pass
    # jstyleson drops // and /* */ comments that JSON forbids and some CMSs emit.
    return jstyleson.loads(_TRAILING_COMMA.sub(r"\1", unwrapped), strict=False)


def is_jsonld_type(value: str | None) -> bool:
    """Whether a `<script type>` is JSON-LD: MIME types ignore case, and a parameter
    (`application/ld+json; charset=utf-8`) is no part of the type."""
    return (value or "").split(";")[0].strip().lower() == "application/ld+json"


def _without_curies(value: Any) -> Any:
    """`"schema:reviewBody"` read as `"reviewBody"`, as schema.org's context expands both (the plain
    name wins where a block gives both)."""
    if isinstance(value, list):
        return [_without_curies(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {key: _without_curies(v) for key, v in value.items() if not key.startswith(_CURIE)}
    for key, v in value.items():
        if key.startswith(_CURIE):
            out.setdefault(key.removeprefix(_CURIE), _without_curies(v))
    return out


def _element_lang(element: Any) -> str | None:
    """The `lang` (or `xml:lang`) of an element or of its nearest ancestor below `<body>`. The `<html lang>`
    and `<body lang>` are left out: they are the site template's, and sites with an English template publish
    reviews in other languages under it (the demo site too), which the flows would then trust over detection.
    Where an element has both, `xml:lang` wins, as RDFa processors and XHTML read it."""
    # The HTML parser keeps `xml:lang` as a plain attribute of that name, outside the XML namespace.
    found = element.xpath(f"ancestor-or-self::*[@lang or @*[name()='{_XML_LANG}']]"
                          "[not(self::html or self::body or self::head)][1]")
    if not found:
        return None
    value = found[0].get(_XML_LANG)
    return ((found[0].get("lang") if value is None else value) or "").strip() or None


def _mark_rdfa_elements(document: Any) -> None:
    """Give each RDFa item the `lang` of its element (see _element_lang) and the element's place in the
    page, as properties of its own.

    The RDFa graph keeps no link from a node back to its element: its literals carry the language inherited
    from `<html lang>` too, and its nodes come out in no stable order (rdflib's blank nodes are random), so
    two reviews could swap places from one crawl of a page to the next. Both are written into the markup,
    as child `<meta>`s of each `typeof` element: their subject is the item the element types. Void elements
    (`<link typeof>`) cannot hold them, and their items keep no language and go last."""
    for place, element in enumerate(document.xpath("//*[@typeof]")):
        if element.tag in _VOID_ELEMENTS:
            continue
        lang = _element_lang(element)
        for name, value in ((_ELEMENT_PLACE, str(place)), (_ELEMENT_LANG, lang)):
            if value:
                marker = lxml.etree.SubElement(element, "meta")
                marker.set("property", name)
                marker.set("content", value)


def _marked(node: dict[str, Any], name: str) -> list[str]:
    """The values _mark_rdfa_elements gave an RDFa node: several where elements share one subject."""
    return [str(v["@value"]) for v in node.get(name, []) if isinstance(v, dict) and "@value" in v]


def _author_links(tree: Any, base: str) -> dict[str, str]:
    """Link text by address for `<a itemprop="author" href>` and `<a property="author" href>`:
    microdata and RDFa take the href for the author and drop the text, which is the critic's name."""
    links: dict[str, str] = {}
    for link in tree.xpath("//a[@href][@itemprop or @property][not(@itemscope)][not(@typeof)]"):
        names = f"{link.get('itemprop') or ''} {link.get('property') or ''}".split()
        text = " ".join(link.text_content().split())
        if text and any(re.split(r"[/:#]", name)[-1] == "author" for name in names):
            links[urljoin(base, strip_html5_whitespace(link.get("href")))] = text
    return links


def _linked_author(value: Any, links: dict[str, str]) -> Any:
    if isinstance(value, list):
        return [_linked_author(v, links) for v in value]
    if isinstance(value, str) and value in links:
        return {"@type": [], "name": links[value], "url": value}
    return value


def _flatten_jsonld(data: Any) -> list[dict[str, Any]]:
    items = data if isinstance(data, list) else [data]
    out: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if "@graph" in item:
            out.extend(_flatten_jsonld(item["@graph"]))
        else:
            out.append(item)
    return out


def _microdata_to_jsonld(item: Any, page: PageData, links: dict[str, str]) -> Any:
    if isinstance(item, list):
        return [_microdata_to_jsonld(x, page, links) for x in item]
    if not isinstance(item, dict):
        return item
    if "properties" not in item:
        return {key: value for key, value in item.items() if key != "htmlNode"}
    out: dict[str, Any] = {"@type": short_type(item.get("type"))}
    if item.get("id"):
        out["@id"] = item["id"]
    for name, value in item["properties"].items():
        value = _microdata_to_jsonld(value, page, links)
        out[name] = _linked_author(value, links) if name == "author" else value
    lang = _element_lang(item["htmlNode"]) if item.get("htmlNode") is not None else None
    if lang:
        page.languages[id(out)] = lang
    return out


def _rdfa_to_jsonld(nodes: list[dict[str, Any]], author_links: dict[str, str], page: PageData) -> list[dict[str, Any]]:
    """Rebuild nested objects from RDFa's flat, expanded node list, items in page order; an item's element
    language goes to `page.languages`, as for microdata."""
    by_id = {n.get("@id"): n for n in nodes if isinstance(n, dict)}
    referenced: set[str] = set()
    # Sites wrap a property in a link (<a href="/film/x/"><span property="name">), and RDFa then
    # gives the name to the link's URL, not to the item. Lend such a URL node's properties back to
    # the typed item whose url it is, as search engines effectively do.
    for node in by_id.values():
        links = [v for prefix in SCHEMA_URLS for v in node.get(f"{prefix}url", [])] if node.get("@type") else []
        for link in links:
            lender = by_id.get(link.get("@id")) if isinstance(link, dict) else None
            if lender is not None and lender is not node and not lender.get("@type"):
                for key, values in lender.items():
                    node.setdefault(key, values)
                referenced.add(lender["@id"])

    def place(value: Any) -> int | None:
        """The place in the page of the item a value names (or of a node itself): of its first element,
        where several give one subject."""
        node = by_id.get(value.get("@id")) if isinstance(value, dict) else None
        found = _marked(node, _ELEMENT_PLACE) if node is not None else []
        return min(map(int, found)) if found else None

    def in_page_order(values: list[Any]) -> list[Any]:
        """Items in the order their elements have in the page. A list holding anything else (a literal,
        a link, an item of a void element) stays as it came."""
        places = [place(v) for v in values]
        if None in places:
            return values
        return [value for _, value in sorted(zip(places, values, strict=True), key=lambda pair: pair[0])]

    def value_of(v: dict[str, Any], depth: int, link_only: bool) -> Any:
        if "@value" in v:
            return v["@value"]
        ref = v.get("@id")
        if ref in by_id and depth < _MAX_DEPTH and not link_only:
            referenced.add(ref)
            return build(by_id[ref], depth + 1)
        return ref

    def build(node: dict[str, Any], depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {"@type": short_type(node.get("@type"))}
        if node.get("@id") and not str(node["@id"]).startswith("_:"):
            out["@id"] = node["@id"]
        for key, values in node.items():
            if key.startswith("@") or not SCHEMA_PREFIX.match(key) or not isinstance(values, list):
                continue
            name = SCHEMA_PREFIX.sub("", key)
            values = in_page_order([v for v in values if isinstance(v, dict)])
            built = [value_of(v, depth, name in _LINK_PROPERTIES) for v in values]
            if name == "author":
                built = _linked_author(built, author_links)
            out[name] = built[0] if len(built) == 1 else built
        langs = _marked(node, _ELEMENT_LANG)
        if langs:
            page.languages[id(out)] = langs[0]
        return out

    typed = [n for n in nodes if isinstance(n, dict) and n.get("@type")]
    typed.sort(key=lambda n: (place(n) is None, place(n) or 0))  # stable: unplaced items last, as they came
    roots = [build(n, 0) for n in typed]
    return [r for r, n in zip(roots, typed, strict=True) if n.get("@id") not in referenced]


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
# Markup that never mentions a review or a rating cannot have held one (a broken breadcrumb list).
_MAY_HOLD_REVIEWS = re.compile(r"review|rating", re.IGNORECASE)


def _unreadable(page: PageData, reason: str, text: str) -> None:
    """An error on the page; kept with its text for the run's rejects when it may have held reviews."""
    page.errors.append(reason)
    if _MAY_HOLD_REVIEWS.search(text):
        page.unreadable.append((reason, text))


def read_page(html: str | bytes, url: str) -> PageData:
    """All schema.org objects on one page, with a message for each block that failed."""
    page = PageData()
    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
    if not text.strip():
        page.errors.append("empty page")
        return page
    try:
        # The text is decoded already: an XML declaration naming an encoding (XHTML pages, feeds) would
        # make lxml refuse it, and lose every review on the page.
        tree = lxml.html.fromstring(_XML_DECLARATION.sub("", text, count=1))
    except (lxml.etree.ParserError, ValueError) as exc:
        _unreadable(page, f"unparseable HTML: {exc}", text)
        return page

    scripts = [script for script in tree.xpath("//script[@type]") if is_jsonld_type(script.get("type"))]
    for number, script in enumerate(scripts, start=1):
        block = script.text_content() or ""
        try:
            data = parse_jsonld_block(block)
            if f'"{_CURIE}' in block:
                data = _without_curies(data)
            objects = list(_flatten_jsonld(data))
        except ValueError as exc:
            _unreadable(page, f"JSON-LD block {number} unreadable: {exc}", block)
            continue
        except RecursionError:  # thousands of nested arrays or objects: this block is lost, not the page
            _unreadable(page, f"JSON-LD block {number} unreadable: nested too deeply", block)
            continue
        lang = _element_lang(script)
        for obj in objects:
            page.objects.append(("json-ld", obj))
            if lang:
                page.languages[id(obj)] = lang

    links = _author_links(tree, url) if "itemscope" in text or "typeof=" in text else {}
    if "itemscope" in text:
        try:
            items = MicrodataExtractor(add_html_node=True).extract_items(tree, base_url=url)
            page.objects.extend(("microdata", _microdata_to_jsonld(i, page, links)) for i in items)
        except Exception as exc:  # extruct raises bare errors on odd markup; keep the page's other data
            _unreadable(page, f"microdata unreadable: {exc}", text)

    # RDFa parsing is slow (a full RDF graph per page), so only pay for it where RDFa is present.
    if "typeof=" in text:
        try:
            document = parse_xmldom_html(text, encoding="utf-8")
            _mark_rdfa_elements(document)
            nodes = RDFaExtractor().extract_items(document, base_url=url)
            page.objects.extend(("rdfa", obj) for obj in _rdfa_to_jsonld(nodes, links, page))
        except Exception as exc:  # pyRdfa raises many unrelated types on broken markup
            _unreadable(page, f"RDFa unreadable: {exc}", text)
    return page
