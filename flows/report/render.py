"""Rendering ReportData to the HTML page and the Markdown message, with every scraped string escaped.

HTML: Jinja2 autoescape is on, so every value from the data is escaped unless it is Markup; the
only Markup is what this package makes itself (formatted numbers, matplotlib SVG).
Markdown: there is no autoescape for Markdown, so the Markdown environment's `finalize` escapes
every printed value that is not Markup; a template cannot forget to escape a field.

Bidi: no printed string keeps an embedding, override or isolate control (the HTML finalize and
md_escape drop them), and scraped text is isolated from the figures beside it (see text.py): the
`film`, `person` and `text` filters put each scraped part in <bdi> in the HTML, and md_escape puts
right-to-left text between FSI and PDI in the Markdown. A value that is unknown (None) prints as "—".
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from flows.output import noun
from flows.report.data import ReportData, film_parts, person_parts
from flows.report.figures import half_up, printed_difference
from flows.report.text import isolate, strip_controls

TEMPLATES = Path(__file__).parent / "templates"

# (anchor, heading) of every section after the title, in order; both templates use these headings.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("numbers", "The week in numbers"),
    ("charts", "Charts"),
    ("top-films", "Top films of the week"),
    ("movers", "Biggest movers"),
    ("new-films", "New films"),
    ("divisive", "Most divisive films"),
    ("active-critics", "Most active critics"),
    ("harsh-kind", "Harshest and kindest critics"),
    ("critics-users", "Where critics and users disagree"),
    ("quotes", "Pull quotes"),
    ("crawls", "Crawl health"),
)
EMPTY_MESSAGE = "No reviews this week"
UNKNOWN = "—"  # a value the warehouse does not have (a killed run's start time, a mean of no scores)

_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_MD_INLINE = re.compile(r"([\\`*_\[\]|~])")
_MD_LEADING = re.compile(r"^([#+=-])")
_MD_ORDERED = re.compile(r"^(\d+)([.)])")
_MASS_MENTION = re.compile(r"@(?=(here|channel|everyone)\b)", re.IGNORECASE)
# GitHub-flavoured Markdown links bare "http://...", "https://", "ftp://", "www." after a non-letter,
# "mailto:", "xmpp:" and e-mail addresses ("a@b.com"). A backslash before the ":", "." or "@" keeps
# the text as it reads and stops the link: the escaped character is no longer where the autolink
# rule looks for it.
_URL_COLON = re.compile(r":(?=//)")
_PROTOCOL = re.compile(r"(?<![a-z0-9])(mailto|xmpp):", re.IGNORECASE)
_WWW = re.compile(r"(?<![a-z0-9])(www)\.", re.IGNORECASE)
_EMAIL_AT = re.compile(r"(?<=[a-z0-9._+-])@", re.IGNORECASE)


def md_escape(value: Any) -> str:
    """Scraped text as inert Markdown: one line, no markup, no links, no HTML, no table breaks, no mass
    pings, no bidi controls; right-to-left text is isolated so it cannot reorder what follows it."""
    text = " ".join(strip_controls(str(value)).split())  # a newline could start a heading, list or table row
    text = _ENTITY.sub("&amp;", text)  # keep "&lt;" in the data as those four characters
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_INLINE.sub(r"\\\1", text)
    # "# x", "- x", "1. x" at the start of a line would be a heading or a list
    text = _MD_ORDERED.sub(r"\1\\\2", _MD_LEADING.sub(r"\\\1", text))
    text = _URL_COLON.sub(r"\\:", text)
    text = _PROTOCOL.sub(r"\1\\:", text)
    text = _WWW.sub(r"\1\\.", text)
    text = _EMAIL_AT.sub(r"\\@", text)
    return isolate(_MASS_MENTION.sub("@\u200b", text))


def _md_finalize(value: Any) -> Any:
    if value is None:
        return UNKNOWN
    if isinstance(value, Markup):
        return str(value)
    return md_escape(value)


def _html_finalize(value: Any) -> Any:
    """Autoescape still escapes what this returns; this only drops bidi controls and shows None as "—"."""
    if value is None:
        return UNKNOWN
    if isinstance(value, str) and not isinstance(value, Markup):
        return strip_controls(value)
    return value


# Scraped strings: each part isolated on its own, so a right-to-left name neither reorders its outlet
# nor the figures after it. The Markdown ones return Markup so finalize does not escape them twice.
def _md_film(row: dict[str, Any]) -> Markup:
    title, year = film_parts(row)
    return Markup(md_escape(title) + (f" ({md_escape(year)})" if year else ""))


def _md_person(row: dict[str, Any]) -> Markup:
    name, outlet = person_parts(row)
    return Markup(md_escape(name) + (f", {md_escape(outlet)}" if outlet else ""))


def _md_text(value: Any) -> Any:
    return value if value is None else Markup(md_escape(value))


_BDI = Markup("<bdi>{}</bdi>")


def _html_film(row: dict[str, Any]) -> Markup:
    title, year = film_parts(row)
    html = _BDI.format(strip_controls(title))
    return html + Markup(" ({})").format(year) if year else html


def _html_person(row: dict[str, Any]) -> Markup:
    name, outlet = person_parts(row)
    html = _BDI.format(strip_controls(name))
    return html + Markup(", ") + _BDI.format(strip_controls(outlet)) if outlet else html


def _html_text(value: Any) -> Any:
    return value if value is None else _BDI.format(strip_controls(str(value)))


# Number filters return Markup so the Markdown finalize leaves them alone; they only ever contain
# digits and signs made here. A non-number passes through unchanged and is escaped as usual.
def number(value: Any, digits: int = 1) -> Any:
    if value is None:
        return Markup(UNKNOWN)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, int):
        return Markup(f"{value:,}")
    return Markup(f"{half_up(value, digits):,.{digits}f}")


def signed(value: Any, digits: int = 1) -> Any:
    if value is None:
        return Markup(UNKNOWN)
    if not isinstance(value, int | float):
        return value
    rounded = half_up(value, digits)
    text = f"{abs(rounded):,.{digits}f}"
    if rounded == 0:
        return Markup(text)
    return Markup(("+" if value > 0 else "−") + text)


def change(now: Any, before: Any, digits: int = 1) -> Any:
    """`now - before` as the two printed figures give it, so a row adds up: 75.24 → 76.16 prints 75.2, 76.2
    and +1.0, not the +0.9 of the unrounded values."""
    if not isinstance(now, int | float) or not isinstance(before, int | float):
        return Markup(UNKNOWN)
    return signed(float(printed_difference(now, before, digits)), digits)


def day(value: Any) -> Any:
    if value is None:
        return Markup(UNKNOWN)
    if isinstance(value, datetime):
        # With its zone: the warehouse's times are UTC (naive), the generation time the machine's (determinism QA:
        # unlabelled, a crawl seemed to start after the report that lists it).
        zone = (value.strftime("%Z") or value.strftime("UTC%z")) if value.tzinfo else "UTC"
        return Markup(f"{value:%Y-%m-%d %H:%M} {zone}")
    if isinstance(value, date):
        return Markup(f"{value:%a %d %b %Y}")
    return value


def plural(count: Any, word: str) -> Any:
    """`word` as it reads after `count` (flows.output.noun), as Markup so the Markdown finalize leaves it."""
    return Markup(noun(count, word))


def _environment(markdown: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=not markdown,
        finalize=_md_finalize if markdown else _html_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(number=number, signed=signed, change=change, day=day, plural=plural)
    if markdown:
        env.filters.update(film=_md_film, person=_md_person, text=_md_text)
    else:
        env.filters.update(film=_html_film, person=_html_person, text=_html_text)
    env.globals.update(sections=dict(SECTIONS), section_order=SECTIONS, empty_message=EMPTY_MESSAGE)
    return env


def so_far(data: ReportData, generated: datetime) -> datetime:
    """The time a report of the current week runs to: `generated` in its own zone, or in UTC when that is still
    the day before the week's Monday (a reader west of UTC on Sunday evening asking for the UTC week begun:
    "the week so far, to 2026-11-29 20:00 SST" named a day before the week)."""
    return generated if generated.date() >= data.week_start else generated.astimezone(UTC)


def render_html(data: ReportData, charts: dict[str, str], generated: datetime) -> str:
    template = _environment(markdown=False).get_template("report.html.j2")
    safe_charts = {name: Markup(svg) for name, svg in charts.items()}  # built by charts.py, text escaped there
    return template.render(data=data, charts=safe_charts, generated=generated, so_far=so_far(data, generated))


def render_markdown(data: ReportData, generated: datetime) -> str:
    template = _environment(markdown=True).get_template("report.md.j2")
    text = template.render(data=data, generated=generated, so_far=so_far(data, generated))
    return re.sub(r"\n{3,}", "\n\n", text)
