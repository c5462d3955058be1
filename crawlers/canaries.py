"""Canary pages: a few known review pages an incremental crawl reads again, to notice a redesign.

An incremental crawl skips the sitemap entries not modified since the last complete crawl, so a site whose
relaunch dropped its review markup without touching its sitemap's dates would be read as "nothing new" week
after week: the silent breakage the health check exists for, never seen by it. So each incremental run
also fetches up to REVIEWS_CANARY_PAGES (3) of the skipped entries that gave reviews before (a file per
source under `<data>/state/`, kept by the crawls themselves), a different few each ISO week. Health judges
them (flows/health.py): if none gives a review any more, the run is unhealthy.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from crawlers.landing import safe_name, write_atomic


def pages_file(root: Path, source: str) -> Path:
    """Where a source's pages that gave reviews are listed, one URL a line."""
    return root / "state" / f"{safe_name(source)}.pages.txt"


def known_pages(path: Path) -> frozenset[str]:
    try:
        return frozenset(path.read_text(encoding="utf-8").split("\n")) - {""}
    except FileNotFoundError:
        return frozenset()


def remember_pages(path: Path, pages: Iterable[str]) -> None:
    """Add `pages` to the list (atomically: a crawl killed while writing leaves the old list)."""
    new = set(pages) - {""}
    if not new:
        return
    known = known_pages(path)
    if new <= known:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, "\n".join(sorted(known | new)) + "\n")


def pick(candidates: Iterable[str], budget: int, today: date) -> list[str]:
    """Up to `budget` of the candidates, the same ones all week and others the next: those whose CRC of
    url and ISO week is smallest (deterministic, so a test and a rerun see the same sample)."""
    if budget <= 0:
        return []
    year, week_number, _ = today.isocalendar()
    week = f"{year}-W{week_number:02d}"
    return sorted(set(candidates), key=lambda url: (zlib.crc32(f"{url}|{week}".encode()), url))[:budget]
