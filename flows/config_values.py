"""Reading values out of a parsed TOML config: each check raises ReviewsError naming the file and key,
"<file>: <key> must be <what>, not <value>", or for a key nobody reads, the closest known one."""

from __future__ import annotations

import difflib
import math
import re
from typing import Any
from urllib.parse import urlsplit

from flows.errors import ReviewsError


def shown(value: Any) -> str:
    """A TOML value as the user wrote it, short."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str | int | float):
        return repr(value)
    return f"{type(value).__name__} {value}"  # TOML dates and times


def failure(where: str, expected: str, value: Any) -> ReviewsError:
    if value is None:  # TOML has no null: the key is not there
        return ReviewsError(f"{where} is missing; expected {expected}")
    return ReviewsError(f"{where} must be {expected}, not {shown(value)}")


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def string_value(value: Any, where: str, what: str = "a string") -> str:
    if not isinstance(value, str):
        raise failure(where, what, value)
    if not value.strip():
        raise ReviewsError(f"{where} is empty; expected {what}")
    return value


def int_value(value: Any, where: str, minimum: int, unit: str = "", maximum: int | None = None) -> int:
    if not is_int(value) or value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise failure(where, f"a whole number{unit} {bounds}", value)
    return value


def number_value(value: Any, where: str, minimum: float = 0, maximum: float | None = None, unit: str = "") -> float:
    if not is_number(value) or value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum:g} and {maximum:g}" if maximum is not None else f">= {minimum:g}"
        raise failure(where, f"a number{unit} {bounds}", value)
    return float(value)


def table_value(value: Any, where: str, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise failure(where, f"a table ({what})", value)
    return value


def check_known_keys(raw: dict[str, Any], known: tuple[str, ...], path: str, table: str) -> None:
    """Unknown keys are errors: a typo (`min_page`) would otherwise silently keep the default."""
    for key in raw:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ReviewsError(f"{path}: unknown key {key!r} in {table} (known: {', '.join(known)}){hint}")


_EMAIL = re.compile(r"^(?:mailto:)?[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_contact(value: str, where: str) -> str:
    """A contact for the user agent: an http(s) URL or an email address (config QA: "bob" was taken, and sent to
    every site as the way to reach the operator)."""
    text = value.strip()
    parts = urlsplit(text)
    if (parts.scheme in ("http", "https") and parts.netloc and not any(c.isspace() for c in text)) or \
            _EMAIL.match(text):
        return text
    raise failure(where, "an http:// or https:// URL, or an email address, where site operators can reach you", value)


def check_url(url: Any, where: str) -> str:
    """A start URL as the crawler can take it (stripped); ReviewsError naming `where` otherwise. Scrapy would
    only log "Missing scheme in request url" and end a crawl of 0 pages with exit 0."""
    if not isinstance(url, str):
        raise failure(where, "a URL (a string)", url)
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https", "file") or (parts.scheme != "file" and not parts.netloc):
        raise failure(where, "an http://, https:// or file:// URL", url)
    if any(char.isspace() for char in url.strip()):
        raise ReviewsError(f"{where} {url!r} holds a space, which no address does: write it as %20 if it is meant")
    if "," in url:
        raise ReviewsError(f"{where} {url!r} holds a comma, which the crawler reads as a separator between "
                           "URLs; write it as %2C")
    return url.strip()
