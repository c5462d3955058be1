"""Scrapy settings for the review crawlers.

Every non-default setting says why. Docs: https://docs.scrapy.org/en/latest/topics/settings.html
Values can be overridden per run (`reviews crawl ... -s NAME=VALUE`) or per source in reviews.toml.
"""

import os

from crawlers.landing import DATA_DIR_ENV, DEFAULT_DATA_DIR

BOT_NAME = "film-reviews"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

# Sites must be able to tell who we are and how to reach the operator.
REVIEWS_CONTACT_URL = os.environ.get("REVIEWS_CONTACT_URL", "https://github.com/film-reviews/film-reviews")
USER_AGENT = f"film-reviews/0.1 (+{REVIEWS_CONTACT_URL})"

# Where the landing zone lives; `--data-dir` and REVIEWS_DATA_DIR set it.
REVIEWS_DATA_DIR = os.environ.get(DATA_DIR_ENV, DEFAULT_DATA_DIR)

# Many review sites forbid some sections to robots; honour that by default.
# https://docs.scrapy.org/en/latest/topics/downloader-middleware.html#robotstxt-obey
# crawlers/robots.py reads robots.txt as RFC 9309 says: an unreachable one (5xx, 429, no answer) disallows
# everything for the run, an oversized one is read up to DOWNLOAD_MAXSIZE, and its Crawl-delay is kept as
# the host's least time between requests, up to REVIEWS_CRAWL_DELAY_MAX seconds.
ROBOTSTXT_OBEY = True
REVIEWS_CRAWL_DELAY_MAX = 60.0

# Be polite: adapt the request rate to the server's latency, one request in flight per site on average (the
# target Scrapy's AutoThrottle docs recommend for politeness), at most 4 at once. A weekly incremental run asks
# for few pages, so a slow full first crawl is the only cost. 16 in all, so several sites go at once.
# https://docs.scrapy.org/en/latest/topics/autothrottle.html
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4

# Overloaded servers answer 5xx or 429; retry those, backing off (crawlers/politeness.py; Scrapy's own
# RetryMiddleware retries at once). A retry waits for the answer's Retry-After, or else
# REVIEWS_RETRY_BACKOFF × 2^(earlier retries) seconds, at most REVIEWS_RETRY_BACKOFF_MAX. A Retry-After over
# REVIEWS_RETRY_AFTER_MAX gives that request up. A 429 (or a 503 with Retry-After) also slows its whole host
# down, and may be retried REVIEWS_RATE_LIMIT_RETRY_TIMES times: a rate-limited site takes many.
# https://docs.scrapy.org/en/latest/topics/downloader-middleware.html#retry-http-codes
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REVIEWS_RETRY_BACKOFF = 1.0
REVIEWS_RETRY_BACKOFF_MAX = 60.0
REVIEWS_RETRY_AFTER_MAX = 120.0
REVIEWS_RATE_LIMIT_RETRY_TIMES = 10
# A host that has answered nothing for REVIEWS_HOST_DOWN_AFTER seconds while its downloads kept failing has its
# other requests of the run failed unasked and kept for the next run (crawlers/unreachable.py); 0 = never.
REVIEWS_HOST_DOWN_AFTER = 30.0

# Crawler traps (endless calendars, feeds whose rel=next never ends) have no reviews: the links of a page
# without reviews are followed only while it is at most the REVIEWS_MAX_BARREN_DEPTH-th such page in a row
# (a page with reviews starts the count again, and so do start URLs and sitemap entries; 0 = no limit).
# The demo site needs 2. CLOSESPIDER_PAGECOUNT (Scrapy's, off) caps the responses of a run; set it per
# source in reviews.toml when a site needs a hard stop (the run ends as 'closespider_pagecount').
REVIEWS_MAX_BARREN_DEPTH = 20
# Pagination clamped past its end (page N+1 shows page N again) and a session id in every link are endless
# chains of pages that only repeat reviews the run has met: their links are followed while the page is at most
# the REVIEWS_MAX_REPEAT_DEPTH-th such page in a row. Longer than the above, because a listing may repeat a
# featured review on each of its pages beside links to new ones (0 = no limit).
REVIEWS_MAX_REPEAT_DEPTH = 100
# Both count along one chain of links; a trap that branches (relative links that every path answers, filters that
# each add one more) has millions of short chains. So a run follows the links of at most REVIEWS_MAX_BARREN_PAGES
# pages in a row, whatever their chains, without a review new to it (0 = no limit), and never links shaped like a
# trap (crawlers/url_traps.py).
REVIEWS_MAX_BARREN_PAGES = 10_000
# A page's <meta name="robots" content="nofollow">, its X-Robots-Tag and a link's rel="nofollow" are obeyed:
# those links are not followed (crawlers/meta_robots.py); False follows them.
REVIEWS_OBEY_NOFOLLOW = True


def min_free_mb(text: str) -> float | None:
    """REVIEWS_MIN_FREE_MB as written in the environment, or None when it is no finite number >= 0 ("inf" refused
    every run, "nan" none); the commands that crawl or load refuse such a value in one line (flows/crawl.py)."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 <= value < float("inf") else None


# Free space (MB) on the data folder's disk below which a crawl does not start, and a running one closes as
# `disk_full` (crawlers/shutdown.py); its job state, cache and stats still need room to be written. A bad value
# reads as 64 here: `reviews extract` imports this module without a crawl's check of it.
_min_free = min_free_mb(os.environ.get("REVIEWS_MIN_FREE_MB", "64"))
REVIEWS_MIN_FREE_MB = 64.0 if _min_free is None else _min_free

# A review page is tens of KB; anything past a few MB is not a review page.
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
DOWNLOAD_TIMEOUT = 30

# Opt-in cache for developing selectors without re-hitting a site (REVIEWS_HTTP_CACHE=1): Scrapy's default
# DummyPolicy replays a stored page for a day without asking the site, so it is for development only.
# `reviews run` (flows/pipeline.py) brings its own cache that asks every time: crawlers/httpcache.py.
# https://docs.scrapy.org/en/latest/topics/downloader-middleware.html#httpcache-middleware-settings
HTTPCACHE_ENABLED = os.environ.get("REVIEWS_HTTP_CACHE", "") == "1"
HTTPCACHE_DIR = "httpcache"
HTTPCACHE_EXPIRATION_SECS = 24 * 3600
# Only whole entries are used: a crawl stopped while storing a page left one that every 304 served cut short.
HTTPCACHE_STORAGE = "crawlers.httpcache.CheckedCacheStorage"

ITEM_PIPELINES = {
    "crawlers.tracking.TrackingParamsPipeline": 50,
    "crawlers.pipelines.ValidationPipeline": 100,
    "crawlers.pipelines.InRunDuplicatesPipeline": 200,
    "crawlers.pipelines.LandingPipeline": 300,
}

# A failed download must stay a failure when a stored copy exists (crawlers/httpcache.py). robots.txt per
# RFC 9309 (crawlers/robots.py); retries that wait, and a pacing step last before the network that holds
# each request until its retry time and its host's Crawl-delay or rate limit allow (crawlers/politeness.py).
DOWNLOADER_MIDDLEWARES = {
    # Before all others: a page's link to file://<its host>/… read the machine's own files (crawlers/schemes.py).
    "crawlers.schemes.WebOnlyMiddleware": 10,
    "crawlers.tracking.TrackingParamsMiddleware": 50,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawlers.robots.RobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.backoff.BackoffRetryMiddleware": 550,
    "crawlers.unreachable.UnreachableHostMiddleware": 560,
    # After decompression (590): an HTML page that declares no encoding is read as a browser reads it.
    "crawlers.encoding.UndeclaredEncodingMiddleware": 580,
    # A page that refreshes itself is read, not redirected to itself and dropped; a redirect loop is counted as a
    # failed request, not dropped without a word (crawlers/redirects.py).
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawlers.redirects.SelfRefreshMiddleware": 579,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawlers.redirects.LoopAwareRedirectMiddleware": 600,
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware": None,
    "crawlers.httpcache.NoStaleOnErrorCacheMiddleware": 900,
    "crawlers.politeness.PacingMiddleware": 950,
}
# Requests the pacing step holds for their host do not count toward CONCURRENT_REQUESTS, so a host that asks
# for a long Crawl-delay or Retry-After does not slow the other hosts of a crawl to its pace.
DOWNLOADER = "crawlers.politeness.PacedDownloader"
# ... and at most as many of them wait per host as the host's concurrency; the rest stay in the scheduler.
SCHEDULER_PRIORITY_QUEUE = "crawlers.politeness.PacedPriorityQueue"

# RunStats writes the run's counts beside its landing file when the spider closes.
EXTENSIONS = {
    "crawlers.extensions.RunStats": 500,
    # After RunStats: the run's lock is let go once its stats are written.
    "crawlers.extensions.BatchLock": 600,
    # A second SIGTERM for the same stop (systemd's control-group kill plus the parent's) stays graceful.
    "crawlers.shutdown.RepeatedSigtermGuard": 700,
    # A crawl on a disk running full closes as `disk_full` while it can still save its state (it used to hang).
    "crawlers.shutdown.LowDiskStop": 700,
    "scrapy.extensions.telnet.TelnetConsole": None,
    # Scrapy 2.19's HTTP server that runs Python code sent to it: not wanted in a scheduled crawl, and with no
    # writable home for its token file every crawl logged an ERROR (recovery QA).
    "scrapy.extensions.remote_control.RemoteControl": None,
    # A 304 from revalidation (crawlers/httpcache.py) speeds the crawl up like a 200.
    "scrapy.extensions.throttle.AutoThrottle": None,
    "crawlers.httpcache.RevalidatingAutoThrottle": 0,
}

LOG_LEVEL = os.environ.get("REVIEWS_LOG_LEVEL", "INFO")
FEED_EXPORT_ENCODING = "utf-8"

# Incremental crawls read this many known review pages again, skipped sitemap entries that gave reviews
# before, to notice a redesign that left the sitemap's dates alone (crawlers/canaries.py); 0: none.
REVIEWS_CANARY_PAGES = 3
