"""The Scrapy settings the config knows: their names, and the types it checks when it is read (flows.config)."""

import difflib
import math
from collections.abc import Callable
from functools import cache
from typing import Any

from flows.config_values import failure, is_int, is_number
from flows.errors import ReviewsError

# Scrapy settings whose type we know: a value Scrapy cannot read as that type makes the crawl child
# fail (three times, with retries) long after the file was read. Names as in Scrapy's documentation.
INT_SETTINGS = frozenset({
    "CONCURRENT_ITEMS", "CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN", "CONCURRENT_REQUESTS_PER_IP",
    "CLOSESPIDER_ERRORCOUNT", "CLOSESPIDER_ITEMCOUNT", "CLOSESPIDER_PAGECOUNT", "CLOSESPIDER_TIMEOUT_NO_ITEM",
    "DEPTH_LIMIT", "DOWNLOAD_MAXSIZE", "DOWNLOAD_WARNSIZE", "HTTPCACHE_EXPIRATION_SECS", "MEMUSAGE_LIMIT_MB",
    "MEMUSAGE_WARNING_MB", "METAREFRESH_MAXDELAY", "REDIRECT_MAX_TIMES", "RETRY_TIMES", "URLLENGTH_LIMIT",
    # ours (crawlers/settings.py)
    "REVIEWS_MAX_BARREN_DEPTH", "REVIEWS_MAX_REPEAT_DEPTH", "REVIEWS_MAX_BARREN_PAGES",
    "REVIEWS_RATE_LIMIT_RETRY_TIMES", "REVIEWS_CANARY_PAGES",
})
# 0 reads as "no limit" for CONCURRENT_REQUESTS, but a site given 0 parallel requests is never asked anything,
# and its crawl waits for ever, even after a SIGTERM.
AT_LEAST_ONE = frozenset({"CONCURRENT_REQUESTS_PER_DOMAIN"})
FLOAT_SETTINGS = frozenset({
    "AUTOTHROTTLE_MAX_DELAY", "AUTOTHROTTLE_START_DELAY", "AUTOTHROTTLE_TARGET_CONCURRENCY", "CLOSESPIDER_TIMEOUT",
    "DNS_TIMEOUT", "DOWNLOAD_DELAY", "DOWNLOAD_TIMEOUT",
    "REVIEWS_CRAWL_DELAY_MAX", "REVIEWS_RETRY_AFTER_MAX", "REVIEWS_RETRY_BACKOFF", "REVIEWS_RETRY_BACKOFF_MAX",
    "REVIEWS_MIN_FREE_MB", "REVIEWS_HOST_DOWN_AFTER",
})
# Python's logging takes these names, in capitals; another made the crawl fail three times with a traceback.
CHOICES = {"LOG_LEVEL": ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")}
# Set by the run for each crawl: given in the config or with -s, they moved the crawl's landing files, job state
# or log away from where the run reads them, and the run failed ("ended without writing its stats").
RUN_SETTINGS = frozenset({"REVIEWS_DATA_DIR", "REVIEWS_JOB_STATE", "JOBDIR", "LOG_FILE"})
# The project's own components (crawlers/settings.py): a value replaces them all, and `ITEM_PIPELINES={}` crawled
# 40 reviews and landed none, exit 0 (config QA).
WIRING = frozenset({"ITEM_PIPELINES", "EXTENSIONS", "DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "DOWNLOADER"})
BOOL_SETTINGS = frozenset({
    "AUTOTHROTTLE_DEBUG", "AUTOTHROTTLE_ENABLED", "COMPRESSION_ENABLED", "COOKIES_ENABLED", "HTTPCACHE_ENABLED",
    "RANDOMIZE_DOWNLOAD_DELAY", "REDIRECT_ENABLED", "RETRY_ENABLED", "ROBOTSTXT_OBEY",
    # ours (crawlers/settings.py)
    "REVIEWS_OBEY_NOFOLLOW",
})


@cache
def known_setting_names() -> frozenset[str]:
    """Every setting name a crawl reads: Scrapy's own (its defaults module names each one) and this
    project's (crawlers/settings.py). A name outside them is a typo Scrapy would silently ignore
    (`DOWNLOAD_DELAYY = 1` leaves a site crawled without the delay meant for it)."""
    from scrapy.settings import default_settings

    import crawlers.settings as ours

    names = {name for module in (default_settings, ours) for name in dir(module) if name.isupper()}
    return frozenset(names | INT_SETTINGS | FLOAT_SETTINGS | BOOL_SETTINGS)


def scrapy_setting(name: Any, value: Any, where: str, label: str | None = None) -> Any:
    """A Scrapy setting; values go to the crawl as `-s NAME=VALUE`, so text Scrapy reads as the setting's
    type (DOWNLOAD_DELAY = "0.5") is accepted as well as the TOML type."""
    if not isinstance(name, str) or not name or "=" in name:
        raise ReviewsError(f"{where}: {name!r} is not a Scrapy setting name")
    if name in RUN_SETTINGS:
        raise ReviewsError(f"{where}: {name} is set by the run for each crawl (from the data folder), not here")
    if name == "REVIEWS_CONTACT_URL":
        # crawlers/settings.py builds USER_AGENT from it once, at import: as a setting it changed nothing.
        raise ReviewsError(f"{where}: REVIEWS_CONTACT_URL is read from the environment, not as a setting; "
                           "name the operator with [crawl] contact_url in reviews.toml (or a source's user_agent)")
    if name in WIRING:
        raise ReviewsError(f"{where}: {name} would replace the crawler's own components (crawlers/settings.py), "
                           "without which nothing lands")
    if name not in known_setting_names():
        close = difflib.get_close_matches(name.upper(), sorted(known_setting_names()), n=1)
        hint = f"; did you mean {close[0]}?" if close else " (see Scrapy's settings documentation)"
        raise ReviewsError(f"{where}: unknown Scrapy setting {name!r}, which the crawl would ignore{hint}")
    where = label or f"{where}.{name}"
    if not isinstance(value, str | int | float):  # bool is an int
        raise failure(where, "a string, number or boolean (Scrapy settings are given as NAME=VALUE)", value)
    text = value.strip() if isinstance(value, str) else None
    if name in BOOL_SETTINGS:
        ok = isinstance(value, bool) or value in (0, 1) or (text is not None and text.lower() in
                                                              ("true", "false", "0", "1"))
        if not ok:
            raise failure(where, "true or false", value)
    elif name in AT_LEAST_ONE:
        number = parsed_number(value, int)
        if number is None or int(number) < 1:
            raise failure(where, "a whole number >= 1 (no request would ever be sent to a site with 0)", value)
    elif name in INT_SETTINGS:
        number = parsed_number(value, int)
        if number is None or number < 0:
            raise failure(where, "a whole number >= 0", value)
    elif name in CHOICES and text not in CHOICES[name]:
        raise failure(where, " or ".join(CHOICES[name]), value)
    elif name in FLOAT_SETTINGS:
        number = parsed_number(value, float)
        if number is None or number < 0:
            raise failure(where, "a number >= 0", value)
    return value


def parsed_number(value: Any, kind: Callable[[str], Any]) -> Any:
    if isinstance(value, bool):
        return None
    if kind is int and is_int(value) or kind is float and is_number(value):
        return value
    if isinstance(value, str):
        try:
            number = kind(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None
