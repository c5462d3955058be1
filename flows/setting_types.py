"""The Scrapy settings the config knows: their names, and the types it checks when it is read (flows.config)."""

from functools import cache

# Scrapy settings whose type we know: a value Scrapy cannot read as that type makes the crawl child
# fail (three times, with retries) long after the file was read. Names as in Scrapy's documentation.
INT_SETTINGS = frozenset({
    "CONCURRENT_ITEMS", "CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN", "CONCURRENT_REQUESTS_PER_IP",
    "CLOSESPIDER_ERRORCOUNT", "CLOSESPIDER_ITEMCOUNT", "CLOSESPIDER_PAGECOUNT", "CLOSESPIDER_TIMEOUT_NO_ITEM",
    "DEPTH_LIMIT", "DOWNLOAD_MAXSIZE", "DOWNLOAD_WARNSIZE", "HTTPCACHE_EXPIRATION_SECS", "MEMUSAGE_LIMIT_MB",
    "MEMUSAGE_WARNING_MB", "METAREFRESH_MAXDELAY", "REDIRECT_MAX_TIMES", "RETRY_TIMES", "URLLENGTH_LIMIT",
    # ours (crawlers/settings.py)
    "REVIEWS_MAX_BARREN_DEPTH", "REVIEWS_RATE_LIMIT_RETRY_TIMES", "REVIEWS_CANARY_PAGES",
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
BOOL_SETTINGS = frozenset({
    "AUTOTHROTTLE_DEBUG", "AUTOTHROTTLE_ENABLED", "COMPRESSION_ENABLED", "COOKIES_ENABLED", "HTTPCACHE_ENABLED",
    "RANDOMIZE_DOWNLOAD_DELAY", "REDIRECT_ENABLED", "RETRY_ENABLED", "ROBOTSTXT_OBEY",
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
