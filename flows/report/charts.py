"""The report's charts: matplotlib figures rendered to SVG markup for inlining in the HTML page.

Figures are made with matplotlib.figure.Figure, not pyplot, so no GUI backend or global figure
state is involved and the report renders on a headless server. Text stays text in the SVG
(svg.fonttype 'none'): smaller, selectable, and matplotlib XML-escapes it; film titles in labels
additionally go through `label()` so mathtext never interprets a '$' from scraped data and no bidi
control reorders a label.
"""

from __future__ import annotations

import io
import re
import warnings
from datetime import date

import matplotlib
from matplotlib.figure import Figure

from flows.report.data import ReportData, Row, film
from flows.report.figures import film_tiebreak, printed_difference
from flows.report.text import strip_controls

CRITIC_COLOUR = "#3b6ea8"
USER_COLOUR = "#e0a458"
UP_COLOUR = "#2e8b57"
DOWN_COLOUR = "#c0392b"
INK = "#333333"
LABEL_CHARS = 26
# Inches; the page scales each chart to its column, so these set the text size relative to the chart.
SMALL = (5.0, 3.2)
WIDE = 5.4

# Only the parts of the SVG inside the <svg> element: the XML declaration and DOCTYPE are not
# allowed in the middle of an HTML document.
_SVG_ELEMENT = re.compile(r"<svg\b.*</svg>", re.DOTALL)


def label(text: str, limit: int = LABEL_CHARS) -> str:
    """A scraped string made safe and short for a chart label."""
    text = " ".join(strip_controls(str(text)).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text.replace("$", r"\$")


def _svg(fig: Figure, salt: str, title: str) -> str:
    buffer = io.StringIO()
    rc = {"svg.fonttype": "none", "svg.hashsalt": salt, "font.family": "DejaVu Sans", "font.size": 10}
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        # The SVG keeps labels as text for the browser's fonts; DejaVu lacking a CJK or emoji glyph only
        # affects matplotlib's measuring, and its warning printed source lines on the report's stderr.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font", category=UserWarning)
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Title": title})
    match = _SVG_ELEMENT.search(buffer.getvalue())
    if match is None:  # pragma: no cover - matplotlib always writes an <svg> element
        raise RuntimeError("matplotlib wrote no <svg> element")
    svg = match.group(0)
    # A role and label let screen readers announce the chart; the figure size becomes the viewBox
    # only, so CSS can scale the chart to the screen width.
    svg = re.sub(r'^<svg\b([^>]*?)\swidth="[^"]*"\sheight="[^"]*"', r"<svg\1", svg, count=1)
    return svg.replace("<svg", f'<svg role="img" aria-label="{_attr(title)}" class="chart"', 1)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def _axes(fig: Figure, title: str):
    ax = fig.add_subplot()
    ax.set_title(title, loc="left", fontsize=10, color=INK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(colors=INK)
    return ax


def score_distribution(rows: list[Row]) -> str:
    fig = Figure(figsize=SMALL, layout="constrained")
    ax = _axes(fig, "Score distribution (explicit scores)")
    starts = [row["bin_start"] for row in rows]
    critics = [row["critic_reviews"] for row in rows]
    users = [row["user_reviews"] for row in rows]
    ax.bar(starts, critics, width=9, align="edge", color=CRITIC_COLOUR, label="critics")
    ax.bar(starts, users, width=9, align="edge", bottom=critics, color=USER_COLOUR, label="users")
    ax.set_xticks(list(range(0, 101, 10)))
    ax.set_xlim(0, 100)
    ax.set_ylabel("reviews")
    ax.yaxis.get_major_locator().set_params(integer=True)
    fig.legend(frameon=False, loc="outside upper right", ncols=2)
    return _svg(fig, "scores", "Score distribution")


def reviews_per_day(rows: list[Row]) -> str:
    fig = Figure(figsize=SMALL, layout="constrained")
    ax = _axes(fig, "Reviews published per day")
    days: list[date] = [row["day"] for row in rows]
    names = [f"{day:%a}\n{day.day}" for day in days]
    critics = [row["critic_reviews"] for row in rows]
    users = [row["user_reviews"] for row in rows]
    ax.bar(names, critics, color=CRITIC_COLOUR, label="critics")
    ax.bar(names, users, bottom=critics, color=USER_COLOUR, label="users")
    ax.set_ylabel("reviews")
    ax.yaxis.get_major_locator().set_params(integer=True)
    fig.legend(frameon=False, loc="outside upper right", ncols=2)
    return _svg(fig, "days", "Reviews per day")


def _shown_movement(row: Row) -> float:
    """The change the table prints beside the bar (the difference of the printed scores), or the exact one."""
    now, before = row.get("cumulative_bayes_score"), row.get("previous_bayes_score")
    if isinstance(now, int | float) and isinstance(before, int | float):
        return float(printed_difference(now, before))
    return row["movement"]


def movers(rows: list[Row]) -> str:
    ordered = sorted(rows, key=lambda row: (_shown_movement(row), *film_tiebreak(row)))
    fig = Figure(figsize=(WIDE, 1.0 + 0.3 * max(len(ordered), 1)), layout="constrained")
    ax = _axes(fig, "Bayesian score change since last week")
    if not ordered:
        ax.text(0.5, 0.5, "no film's score moved this week", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return _svg(fig, "movers", "Biggest movers")
    names = [label(film(row)) for row in ordered]
    values = [_shown_movement(row) for row in ordered]
    colours = [UP_COLOUR if value >= 0 else DOWN_COLOUR for value in values]
    positions = list(range(len(ordered)))
    ax.barh(positions, values, color=colours)
    ax.set_yticks(positions, names)
    ax.axvline(0, color=INK, linewidth=0.8)
    ax.set_xlabel("points (0-100 scale)")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    return _svg(fig, "movers", "Biggest movers")


def render_charts(data: ReportData) -> dict[str, str]:
    """SVG markup of each chart, by name; an empty week has no charts."""
    if data.empty:
        return {}
    return {
        "scores": score_distribution(data.score_distribution),
        "days": reviews_per_day(data.reviews_per_day),
        "movers": movers(data.movers),
    }
