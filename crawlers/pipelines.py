"""Item pipelines: validate, drop in-run repeats, append to the landing zone.

Each pipeline does one thing. Nothing is silently lost: an invalid item is written to the
run's rejects file with its reason, and a repeat (the same review seen on its film page and
on its critic page) is counted in the run's stats.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import IO, Any

from itemadapter import ItemAdapter
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro

from crawlers.counted import counted
from crawlers.items import AUDIENCES, RefusedReview, UnreadableMarkup
from crawlers.landing import data_dir, json_line, run_paths
from crawlers.nobody import names_nobody
from crawlers.page_copies import comparable_body
from crawlers.title_years import YEAR_SUFFIX, parse_year, title_year

logger = logging.getLogger(__name__)
# Items a crawl could not write to its landing or rejects file (then it stops as disk_full).
LANDING_FAILED = "reviews/landing_write_failed"


def validation_problems(item: dict[str, Any]) -> list[str]:
    problems = []
    for name in ("source", "url", "run_id", "fetched_at"):
        if not item.get(name):
            problems.append(f"missing {name}")
    if not item.get("film_title") and not item.get("external_ids"):
        problems.append("no film: neither title nor external id")
    if not (item.get("body") or "").strip() and not (item.get("rating_raw") or "").strip():
        problems.append("no content: neither body nor rating")
    if item.get("audience") not in (None, *AUDIENCES):
        problems.append(f"unknown audience {item.get('audience')!r}")
    return problems


class _RunFiles:
    """Opens the run's landing files lazily, once per spider."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.root = data_dir(crawler.settings.get("REVIEWS_DATA_DIR"))
        self.handle: IO[str] | None = None

    def paths(self, spider: Spider) -> dict[str, Path]:
        return run_paths(self.root, spider.source, spider.run_id)

    def write(self, spider: Spider, kind: str, record: dict[str, Any]) -> None:
        """Append one record as a line; a write that fails (a full disk, a file-size limit) stops the crawl as
        `disk_full` and drops the record, counted, with the file cut back to its last whole line. (It was dropped by
        Scrapy with a logged error, and the crawl went on landing nothing and finished as healthy: resources QA.)"""
        path = self.paths(spider)[kind]
        try:
            if self.handle is None:
                path.parent.mkdir(parents=True, exist_ok=True)
                # Line-buffered: a crawl killed mid-run leaves whole lines behind, not a half-written buffer.
                self.handle = path.open("a", encoding="utf-8", buffering=1)
            start = self.handle.tell()  # the line buffer is empty here: the file's size in bytes
            try:
                self.handle.write(json_line(record))
            except OSError:
                self._cut_back(path, start)
                raise
        except OSError as exc:
            self._stop(exc, path)
            raise DropItem(f"not landed: {path}: {exc.strerror or exc}") from None

    def _cut_back(self, path: Path, size: int) -> None:
        handle, self.handle = self.handle, None
        with contextlib.suppress(OSError):
            handle.close()  # what it still held fails again: it is cut off below
        with contextlib.suppress(OSError):
            os.truncate(path, size)

    def _stop(self, exc: OSError, path: Path) -> None:
        if counted(self.crawler.stats, LANDING_FAILED, logger.error, "cannot write %s (%s): the crawl stops, keeping "
                   "its job to resume, and the run says so", path, exc.strerror or exc):
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="disk_full"))

    def close(self) -> None:
        if self.handle is not None:
            with contextlib.suppress(OSError):  # a full disk's last flush: the crawl already stopped on it
                self.handle.close()


class ValidationPipeline:
    """Rejects items a loader could not use, writing each with its reason."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.rejects = _RunFiles(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidationPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, RefusedReview):
            record, problems = item.review.to_dict(), [item.reason]
        elif isinstance(item, UnreadableMarkup):
            record, problems = ItemAdapter(item).asdict(), [f"unreadable markup: {item.reason}"]
        else:
            record = ItemAdapter(item).asdict()
            problems = validation_problems(record)
        if problems:
            reason = "; ".join(problems)
            self.rejects.write(self.crawler.spider, "rejects", {"reason": reason, "item": record})
            self.crawler.stats.inc_value("reviews/rejected")
            raise DropItem(reason)
        return item

    def close_spider(self) -> None:
        self.rejects.close()


_EMPTY = (None, "", [], {})


# Compared as _who_parts reads them, not as fields: "Her (2013)" says the year a film_year field would.
_FILM_FIELDS = frozenset({"film_title", "film_year"})


def _who_parts(adapter: ItemAdapter) -> tuple[Any, ...]:
    """Who wrote a copy about which film, None where the copy does not say: its critic, outlet and audience as
    written, its film's title folded (case, spaces) without a trailing "(2013)", the film's year as the normalizer
    reads a mention's (its year field, else that title year: crawlers/title_years.py), and its external ids."""
    title = adapter.get("film_title")
    folded = " ".join(YEAR_SUFFIX.sub("", title).split()).casefold() if isinstance(title, str) else None
    ids = adapter.get("external_ids")
    return (*(adapter.get(name) or None for name in ("critic_name", "outlet", "audience")), folded or None,
            parse_year(adapter.get("film_year")) or title_year(title if isinstance(title, str) else None),
            tuple(sorted((str(k), str(v)) for k, v in ids.items())) if isinstance(ids, dict) and ids else None)


def _said(parts: tuple[Any, ...]) -> int:
    return sum(1 << index for index, part in enumerate(parts) if part is not None)


def _who(parts: tuple[Any, ...], said: int) -> int:
    """A hash of the parts a copy says (`said`, bits of _who_parts): a later copy is by the same critic about the
    same film when it says those alike, whatever it adds (the year a film page left out)."""
    return hash(tuple(part for index, part in enumerate(parts) if said >> index & 1))


class InRunDuplicatesPipeline:
    """Keeps the first copy of a review met twice in one run (film page and critic page), unless a later copy
    is fuller: a rating the kept one lacks, or a body that goes on from the kept one's (compared as
    comparable_body, so markup or a "Read more" is no more text), and nothing less: every field the kept one
    fills (a date, an outlet), and the same critic and film. That copy lands too, and
    the load keeps a key's latest copy in a batch (upsert/01_classify.sql), so an excerpt without a rating on
    a film page no longer hides the rated full review on its own page (lineage QA: the rating was lost for
    good, a --full crawl meets the pages in the same order)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        # Per key, what the landed copy holds: whether it had a rating, its body's comparable length and hash
        # (not the text: a large crawl would hold every body), which fields it fills (a bit each), and a hash of
        # who wrote it about which film.
        self.seen: dict[tuple[str, ...], tuple[bool, int, int, int, int, int]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> InRunDuplicatesPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        # A page may show one review under a variant film title, so the review's own id decides.
        review_id = adapter.get("source_review_id")
        key = (adapter["source"], review_id) if review_id else self.page_key(adapter)
        rated = bool(adapter.get("rating_raw") or adapter.get("rating_value"))
        body = comparable_body(adapter.get("body"))
        filled = sum(1 << bit for bit, (name, value) in enumerate(adapter.items())
                     if value not in _EMPTY and name not in _FILM_FIELDS)
        parts = _who_parts(adapter)
        said = _said(parts)
        kept = self.seen.get(key)
        if kept is not None:
            kept_rated, kept_size, kept_hash, kept_filled, kept_said, kept_who = kept
            goes_on = len(body) >= kept_size and hash(body[:kept_size]) == kept_hash
            loses_nothing = (rated or not kept_rated) and filled & kept_filled == kept_filled \
                and said & kept_said == kept_said and _who(parts, kept_said) == kept_who
            if not (loses_nothing and goes_on and (rated > kept_rated or len(body) > kept_size)):
                self.crawler.stats.inc_value("reviews/repeated_in_run")
                raise DropItem(f"repeat of {key[1]} within this run")
            self.crawler.stats.inc_value("reviews/fuller_repeat_in_run")
        self.seen[key] = (rated, len(body), hash(body), filled, said, _who(parts, said))
        return item

    @staticmethod
    def page_key(adapter: ItemAdapter) -> tuple[str, ...]:
        """A review without an id: its page, critic and film. With no author to tell reviews apart (none, or
        "Anonymous"), its film's year, text and rating too, so each anonymous review of a film on a page lands
        (extraction already kept one copy of a review the page shows twice: crawlers/extraction.py)."""
        critic = adapter.get("critic_name") or ""
        key = (adapter["source"], adapter["url"], critic, adapter.get("film_title") or "")
        if not names_nobody(critic, adapter.get("outlet")):
            return key
        return (*key, adapter.get("film_year") or "", comparable_body(adapter.get("body")),
                adapter.get("rating_raw") or "")


class LandingPipeline:
    """Appends accepted items to `<data-dir>/raw/<source>/<run-id>.jsonl`."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.items = _RunFiles(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LandingPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        record = ItemAdapter(item).asdict()
        self.items.write(self.crawler.spider, "items", record)
        stats = self.crawler.stats
        stats.inc_value("reviews/landed")
        if record.get("page_url") in getattr(self.crawler.spider, "canary_responses", ()):
            stats.inc_value("incremental/canary_reviews")  # accepted, so a relaunch with broken markup shows
        # Field coverage lets a health check notice a site whose markup changed under us.
        for name, value in record.items():
            if value not in (None, "", {}, []):
                stats.inc_value(f"reviews/field/{name}")
        return item

    def close_spider(self) -> None:
        self.items.close()
