"""Rendering ReportData to the HTML page and the Markdown message, with every scraped string escaped.

HTML: Jinja2 autoescape is on, so every value from the data is escaped unless it is Markup; the
only Markup is what this package makes itself (formatted numbers, matplotlib SVG).
Markdown: there is no autoescape for Markdown, so the Markdown environment's `finalize` escapes
every printed value that is not Markup; a template cannot forget to escape a field.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from flows.report.data import ReportData, film, person

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

_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_MD_INLINE = re.compile(r"([\\`*_\[\]|~])")
_MD_LEADING = re.compile(r"^([#+=-])")
_MD_ORDERED = re.compile(r"^(\d+)([.)])")
_MASS_MENTION = re.compile(r"@(?=(here|channel|everyone)\b)", re.IGNORECASE)


def md_escape(value: Any) -> str:
    """Scraped text as inert Markdown: one line, no markup, no HTML, no table breaks, no mass pings."""
    text = " ".join(str(value).split())  # a newline could start a heading, list or table row
    text = _ENTITY.sub("&amp;", text)  # keep "&lt;" in the data as those four characters
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_INLINE.sub(r"\\\1", text)
    # "# x", "- x", "1. x" at the start of a line would be a heading or a list
    text = _MD_ORDERED.sub(r"\1\\\2", _MD_LEADING.sub(r"\\\1", text))
    return _MASS_MENTION.sub("@\u200b", text)


def _md_finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Markup):
        return str(value)
    return md_escape(value)


# Number filters return Markup so the Markdown finalize leaves them alone; they only ever contain
# digits and signs made here. A non-number passes through unchanged and is escaped as usual.
def number(value: Any, digits: int = 1) -> Any:
    if value is None:
        return Markup("–")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, int):
        return Markup(f"{value:,}")
    return Markup(f"{value:,.{digits}f}")


def signed(value: Any, digits: int = 1) -> Any:
    if value is None:
        return Markup("–")
    if not isinstance(value, int | float):
        return value
    text = f"{abs(value):.{digits}f}"
    if round(value, digits) == 0:
        return Markup(text)
    return Markup(("+" if value > 0 else "−") + text)


def day(value: Any) -> Any:
    if isinstance(value, datetime):
        return Markup(f"{value:%Y-%m-%d %H:%M}")
    if isinstance(value, date):
        return Markup(f"{value:%a %d %b %Y}")
    return value


def _environment(markdown: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=not markdown,
        finalize=_md_finalize if markdown else None,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(number=number, signed=signed, day=day, film=film, person=person)
    env.globals.update(sections=dict(SECTIONS), section_order=SECTIONS, empty_message=EMPTY_MESSAGE)
    return env


def render_html(data: ReportData, charts: dict[str, str], generated: datetime) -> str:
    template = _environment(markdown=False).get_template("report.html.j2")
    safe_charts = {name: Markup(svg) for name, svg in charts.items()}  # built by charts.py, text escaped there
    return template.render(data=data, charts=safe_charts, generated=generated)


def render_markdown(data: ReportData, generated: datetime) -> str:
    template = _environment(markdown=True).get_template("report.md.j2")
    text = template.render(data=data, generated=generated)
    return re.sub(r"\n{3,}", "\n\n", text)
