"""HTML page renderers: film pages (JSON-LD), critic pages (microdata), user pages (RDFa Lite).

Strings are escaped with ``html.escape`` everywhere they enter HTML, and JSON put inside
``<script>`` goes through ``json_for_script`` so hostile text cannot end the script element.
Multi-paragraph review bodies are published in a ``content`` attribute (microdata ``<meta>``,
RDFa ``content=``) because text-content extraction normalises whitespace; the visible copy is
split into ``<p>`` paragraphs.
"""

from __future__ import annotations

import json
import re
from html import escape as e
from urllib.parse import quote

from .catalogue import Film, Person
from .ratings import Rating
from .site import PER_PAGE, DemoSite, Review

SCRIPT_OPEN = re.compile(r"<(script)", re.IGNORECASE)


def json_for_script(obj: object) -> str:
    """JSON safe inside <script>: "</" -> "<\\/" and no "<!--"/"<script" that would change
    the HTML tokenizer state.  ``json.loads`` of the result returns the original strings."""
    text = json.dumps(obj, ensure_ascii=False)
    text = text.replace("</", "<\\/").replace("<!--", "\\u003c!--")
    return SCRIPT_OPEN.sub(r"\\u003c\1", text)


def ld_script(obj: object, wrap: str = "plain") -> str:
    body = json_for_script(obj)
    if wrap == "cdata":  # as Letterboxd publishes it
        body = f"\n/* <![CDATA[ */\n{body}\n/* ]]> */\n"
    elif wrap == "comment":
        body = f"<!--\n{body}\n-->"
    return f'<script type="application/ld+json">{body}</script>'


def layout(title: str, main: str, head: str = "", charset: str = "utf-8", lang: str = "en") -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="{charset}">\n'
        f"<title>{e(title)} · Demo Film Reviews</title>\n{head}</head>\n<body>\n"
        '<header><a href="/">Demo Film Reviews</a> <nav><a href="/films/">Films</a> '
        '<a href="/critics/">Critics</a> <a href="/users/">Users</a> <a href="/feed.xml">RSS</a></nav>\n'
        '<form action="/search" method="get"><input name="q" type="search"></form></header>\n'
        f"<main>\n{main}\n</main>\n</body>\n</html>\n"
    )


def page_url(path: str, page: int, style: str) -> str:
    if page == 1:
        return path
    return f"{path}reviews/page/{page}/" if style == "path" else f"{path}?page={page}"


def pagination(path: str, page: int, last: int, style: str = "query") -> tuple[str, str]:
    """(<head> links, visible nav) with rel=prev/next and every page number linked."""
    head, nav = [], []
    if page > 1:
        prev = page_url(path, page - 1, style)
        head.append(f'<link rel="prev" href="{prev}">')
        nav.append(f'<a rel="prev" href="{prev}">‹ Previous</a>')
    for n in range(1, last + 1):
        nav.append(f"<span>{n}</span>" if n == page else f'<a href="{page_url(path, n, style)}">{n}</a>')
    if page < last:
        nxt = page_url(path, page + 1, style)
        head.append(f'<link rel="next" href="{nxt}">')
        nav.append(f'<a rel="next" href="{nxt}">Next ›</a>')
    if last <= 1:
        return "", ""
    return "\n".join(head) + "\n", '<nav class="pagination">' + " ".join(nav) + "</nav>"


def paragraphs(body: str) -> str:
    return "".join(f"<p>{e(p)}</p>" for p in body.split("\n\n"))


def rating_ld(r: Rating) -> dict:
    out: dict = {"@type": "Rating", "ratingValue": r.value}
    if r.numeric:
        out["bestRating"], out["worstRating"] = r.best, r.worst
    return out


def review_ld(rv: Review, base: str) -> dict:
    out: dict = {
        "@type": "Review",
        "identifier": rv.identifier,
        "url": base + rv.path,
        "name": rv.title_published,
        "reviewBody": rv.body_published,
        "datePublished": rv.date_displayed,
    }
    if rv.has_language:
        out["inLanguage"] = rv.language
    out["author"] = {"@type": "Person", "name": rv.person.name, "url": base + rv.person.path}
    if rv.outlet:
        out["publisher"] = {"@type": "Organization", "name": rv.outlet}
    if rv.rating:
        out["reviewRating"] = rating_ld(rv.rating)
    return out


def movie_ld(site: DemoSite, film: Film, reviews: list[Review], base: str) -> dict:
    movie: dict = {
        "@context": "https://schema.org",
        "@type": "Movie",
        "name": film.title_jsonld,
        "url": f"{base}/film/{film.slug}/",
        "dateCreated": str(film.year),
        "genre": film.genre,
        "director": {"@type": "Person", "name": film.director},
    }
    if film.imdb_url:
        movie["sameAs"] = film.imdb_url
    mean, count, total = site.film_aggregate(film)
    if mean is not None:
        movie["aggregateRating"] = {
            "@type": "AggregateRating", "ratingValue": mean, "bestRating": 5, "worstRating": 0,
            "ratingCount": count, "reviewCount": total,
        }
    movie["review"] = [review_ld(r, base) for r in reviews]
    return movie


def visible_review(rv: Review) -> str:
    outlet = f', <span class="outlet">{e(rv.outlet)}</span>' if rv.outlet else ""
    rating = f'<p>Rating: <span class="rating">{e(rv.rating.displayed)}</span></p>' if rv.rating else ""
    return (
        f'<article class="review" id="{rv.identifier}">\n<h3>{e(rv.title_published)}</h3>\n'
        f'<p class="byline">By <a href="{rv.person.path}">{e(rv.person.name)}</a>{outlet} · '
        f'<span class="date">{e(rv.date_displayed)}</span></p>\n{rating}\n'
        f'<div class="review-body">{paragraphs(rv.body_published)}</div>\n'
        f'<p><a href="{rv.path}">Permalink</a></p>\n</article>'
    )


ORG_LD = {"@context": "https://schema.org", "@type": "Organization", "name": "Demo Film Reviews",
          "url": "/", "logo": "/static/logo.png"}
BROKEN_LD = ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": '
             '"BreadcrumbList", "itemListElement": [{"@type": "ListItem", "position": 1, "name": "Films",'
             "</script>")


def film_page(site: DemoSite, film: Film, page: int, base: str) -> str | None:
    last = max(1, -(-site.reviews_per_film // PER_PAGE))
    if not 1 <= page <= last:
        return None
    reviews = site.film_reviews(film, (page - 1) * PER_PAGE, page * PER_PAGE)
    path = f"/film/{film.slug}/"
    head, nav = pagination(path, page, last, style="path")
    blocks = [ld_script(movie_ld(site, film, reviews, base), film.jsonld_wrap)]
    if film.extra_block == "organization":
        blocks.append(ld_script({**ORG_LD, "url": base + "/"}))
    elif film.extra_block == "breadcrumb":
        crumbs = [("Films", "/films/"), (film.title_jsonld, path)]
        blocks.insert(0, ld_script({
            "@context": "https://schema.org", "@type": "BreadcrumbList",
            "itemListElement": [{"@type": "ListItem", "position": n + 1, "name": name, "item": base + url}
                                for n, (name, url) in enumerate(crumbs)]}))
    if film.index == 1 and page == 1:  # exactly one page carries an unrecoverable block
        blocks.append(BROKEN_LD)
    mean, count, _ = site.film_aggregate(film)
    agg = f"<p>Average: {mean:.2f}/5 from {count} ratings</p>" if mean is not None else ""
    imdb = f' · <a href="{film.imdb_url}">IMDb</a>' if film.imdb_url else ""
    main = (
        f"<h1>{e(film.title)} <small>({film.year})</small></h1>\n"
        f"<p>Directed by {e(film.director)} · {film.genre}{imdb} · "
        f'<a href="/search?q={quote(film.title)}">Similar titles</a></p>\n{agg}\n'
        f"<h2>Reviews (page {page} of {last})</h2>\n"
        + "\n".join(visible_review(r) for r in reviews)
        + f"\n{nav}"
    )
    title = film.title if page == 1 else f"{film.title} – reviews page {page}"
    return layout(title, main, head=head + "\n".join(blocks) + "\n")


def _film_ref(rv: Review, base: str, prop: str, scope: str) -> str:
    f = rv.film
    same = f'<link {prop}="sameAs" href="{f.imdb_url}">' if f.imdb_url else ""
    return (
        # No <a href> around named values: in RDFa an href would become the subject of "name".
        f'<div {prop}="itemReviewed" {scope.format(t="Movie")}><span {prop}="name">'
        f'{e(rv.film_name_shown)}</span> (<span {prop}="dateCreated">{f.year}</span>) '
        f'<a href="/film/{f.slug}/">film page</a> {same}'
        f'<link {prop}="url" href="{base}/film/{f.slug}/"></div>'
    )


def _rating_markup(r: Rating, prop: str, scope: str) -> str:
    if r.numeric:
        inner = (f'<meta {prop}="ratingValue" content="{r.value}"><meta {prop}="bestRating" '
                 f'content="{r.best}"><meta {prop}="worstRating" content="{r.worst}">'
                 f'<span class="rating">{e(r.displayed)}</span>')
    else:
        inner = f'<span class="rating" {prop}="ratingValue">{e(r.displayed)}</span>'
    return f'<div {prop}="reviewRating" {scope.format(t="Rating")}>Rating: {inner}</div>'


def structured_review(rv: Review, base: str, kind: str) -> str:
    """A review in microdata (kind="microdata") or RDFa Lite (kind="rdfa")."""
    if kind == "microdata":
        prop, scope = "itemprop", 'itemscope itemtype="https://schema.org/{t}"'
    else:
        prop, scope = "property", 'typeof="{t}"'
    lang = f' lang="{rv.language}"' if rv.language != "en" else ""
    author = (f'<span {prop}="author" {scope.format(t="Person")}><link {prop}="url" '
              f'href="{base}{rv.person.path}"><span {prop}="name">{e(rv.person.name)}</span> '
              f'<a href="{rv.person.path}">(profile)</a></span>')
    publisher = ""
    if rv.outlet:
        publisher = (f' for <span {prop}="publisher" {scope.format(t="Organization")}>'
                     f'<span {prop}="name">{e(rv.outlet)}</span></span>')
    language = f'<meta {prop}="inLanguage" content="{rv.language}">' if rv.has_language else ""
    rating = _rating_markup(rv.rating, prop, scope) if rv.rating else ""
    body_attr = e(rv.body_published)
    body = (f'<meta {prop}="reviewBody" content="{body_attr}"><div class="review-body">'
            if kind == "microdata" else f'<div class="review-body" {prop}="reviewBody" content="{body_attr}">')
    return (
        f'<article class="review" id="{rv.identifier}" {scope.format(t="Review")}{lang}>\n'
        f'<meta {prop}="identifier" content="{rv.identifier}"><link {prop}="url" href="{base}{rv.path}">\n'
        f'<h3 {prop}="name">{e(rv.title_published)}</h3>\n{_film_ref(rv, base, prop, scope)}\n'
        f'<p class="byline">By {author}{publisher} · <span {prop}="datePublished">'
        f"{e(rv.date_displayed)}</span></p>\n{rating}{language}\n"
        f"{body}{paragraphs(rv.body_published)}</div>\n"
        f'<p><a href="{rv.path}">Permalink</a></p>\n</article>'
    )


def person_page(site: DemoSite, person: Person, page: int, base: str) -> str | None:
    indices = site.person_review_indices(person)
    last = max(1, -(-len(indices) // PER_PAGE))
    if not 1 <= page <= last:
        return None
    kind = "microdata" if person.audience == "critic" else "rdfa"
    head, nav = pagination(person.path, page, last)
    head += f'<link rel="canonical" href="{base}{page_url(person.path, page, "query")}">\n'
    reviews = [site.review(i) for i in indices[(page - 1) * PER_PAGE: page * PER_PAGE]]
    role = "Critic" if person.audience == "critic" else "Member"
    outlets = f"<p>Writes for {e(person.outlets[0])}</p>" if person.outlets else ""
    vocab = ' vocab="https://schema.org/"' if kind == "rdfa" else ""
    main = (
        f"<h1>{role}: {e(person.name)}</h1>\n{outlets}<p>{len(indices)} reviews</p>\n"
        f'<section class="reviews"{vocab}>\n'
        + "\n".join(structured_review(r, base, kind) for r in reviews)
        + f"\n</section>\n{nav}"
    )
    return layout(person.name, main, head=head, charset=person.charset)


def review_page(rv: Review) -> str:
    film = rv.film
    main = (
        f'<p><a href="/film/{film.slug}/">{e(film.title)} ({film.year})</a></p>\n{visible_review(rv)}\n'
        f'<p><a href="/search?q={quote(film.title)}">More about {e(film.title)}</a></p>'
    )
    return layout(rv.title_published or f"Review of {film.title}", main)


def list_page(title: str, items: list[tuple[str, str]], page: int, last: int, path: str) -> str | None:
    if not 1 <= page <= last:
        return None
    head, nav = pagination(path, page, last)
    links = "\n".join(f'<li><a href="{href}">{e(label)}</a></li>' for href, label in items)
    return layout(title, f"<h1>{e(title)}</h1>\n<ul>\n{links}\n</ul>\n{nav}", head=head)


def home_page(site: DemoSite) -> str:
    latest = [site.review(i) for i in site.feed_indices()[:10]]
    items = "\n".join(
        f'<li><a href="{r.path}">{e(r.person.name)} on {e(r.film.title)}</a></li>' for r in latest
    )
    main = (
        "<h1>Demo Film Reviews</h1>\n"
        f"<p>{len(site.films)} films, {site.n_reviews} reviews.</p>\n"
        '<ul><li><a href="/films/">All films</a></li><li><a href="/critics/">Critics</a></li>'
        '<li><a href="/users/">Members</a></li><li><a href="/feed.xml">Latest reviews (RSS)</a></li>'
        '<li><a href="/search?q=her">Search “her”</a></li></ul>\n'
        f"<h2>Latest</h2>\n<ul>\n{items}\n</ul>"
    )
    return layout("Home", main)


def search_page(site: DemoSite, q: str) -> str:
    needle = q.casefold()
    hits = [f for f in site.films if needle and needle in f.title.casefold()]
    items = "\n".join(f'<li><a href="/film/{f.slug}/">{e(f.title)} ({f.year})</a></li>' for f in hits)
    return layout(f"Search: {q}", f"<h1>Results for “{e(q)}”</h1>\n<ul>\n{items}\n</ul>")
