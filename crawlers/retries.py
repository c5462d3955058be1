"""Pages a crawl could not fetch, requested first by the source's next crawls.

An incremental crawl skips the sitemap entries not modified since the last complete crawl, so a page that failed
for good (a 500 after every retry, a timeout) in a crawl that otherwise finished was never read again: its reviews
stayed missing until a `--full` run. RunStats (crawlers/extensions.py) keeps, for a spider that asks for it, the
failed pages and sitemaps of each run in `<data>/state/<source>.retry.txt`; the schema_org spider requests them at
its start, whatever the sitemap says (a retried sitemap's entries are all read, their lastmod aside). What is
answered leaves the list (under its address before any redirect); what is not is tried by at most MAX_ATTEMPTS
runs (a page gone for good, one robots.txt now forbids, or one off the site's hosts would otherwise stay for
ever). A retried request that fails again is not counted among the run's errors (`retries_failed_again`
instead): it failed before, and a dead page would make every later run look like a site that is down.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crawlers.landing import safe_name, write_atomic

MAX_RETRIES = 10_000  # a site that is down for a whole run must not make the next one start with a million URLs
MAX_ATTEMPTS = 3
PAGE, SITEMAP = "page", "sitemap"
RETRIED = "reviews_retried"  # request meta: a request for a URL on the retry list


@dataclass(frozen=True)
class Retry:
    kind: str  # PAGE or SITEMAP
    attempts: int  # runs that failed to fetch it


def retry_file(root: Path, source: str) -> Path:
    return root / "state" / f"{safe_name(source)}.retry.txt"


def read_retries(path: Path) -> dict[str, Retry]:
    """{url: Retry} from a retry file; empty when there is none."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, UnicodeDecodeError):
        return {}
    retries = {}
    for line in lines:
        kind, attempts, url = (line.split("\t", 2) + ["", ""])[:3]
        if kind in (PAGE, SITEMAP) and attempts.isdigit() and url:
            retries[url] = Retry(kind, int(attempts))
    return retries


def update_retries(path: Path, failed: dict[str, str], answered: set[str]) -> None:
    """The list after a run: what it answered taken off, what failed in it (url: kind) added or counted again,
    what it did not reach counted again; an entry past MAX_ATTEMPTS dropped. Written atomically."""
    before = read_retries(path)
    after: dict[str, Retry] = {}
    for url, retry in before.items():
        if url not in answered and url not in failed and retry.attempts < MAX_ATTEMPTS:
            after[url] = Retry(retry.kind, retry.attempts + 1)
    for url, kind in failed.items():
        attempts = before[url].attempts + 1 if url in before else 1
        if attempts <= MAX_ATTEMPTS:
            after[url] = Retry(kind, attempts)
    if after == before:
        return
    if not after:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    newest = sorted(after.items(), key=lambda item: (item[1].attempts, item[0]))[:MAX_RETRIES]
    write_atomic(path, "".join(f"{retry.kind}\t{retry.attempts}\t{url}\n" for url, retry in sorted(newest)))
