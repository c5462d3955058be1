"""Pages a crawl could not fetch, requested first by the source's next crawl.

An incremental crawl skips the sitemap entries not modified since the last complete crawl, so a page that
failed for good (a 500 after every retry, a timeout) in a crawl that otherwise finished was never read again:
its reviews stayed missing until a `--full` run. RunStats (crawlers/extensions.py) keeps, for a spider that
asks for it, the failed pages and sitemaps of each run in `<data>/state/<source>.retry.txt`: what failed again
stays, what was fetched is taken off. The schema_org spider requests them at its start, whatever the sitemap
says.
"""

from __future__ import annotations

from pathlib import Path

from crawlers.landing import safe_name, write_atomic

MAX_RETRIES = 10_000  # a site that is down for a whole run must not make the next one start with a million URLs
PAGE, SITEMAP = "page", "sitemap"


def retry_file(root: Path, source: str) -> Path:
    return root / "state" / f"{safe_name(source)}.retry.txt"


def read_retries(path: Path) -> dict[str, str]:
    """{url: 'page' or 'sitemap'} from a retry file; empty when there is none."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, UnicodeDecodeError):
        return {}
    retries = {}
    for line in lines:
        kind, _, url = line.partition("\t")
        if kind in (PAGE, SITEMAP) and url:
            retries[url] = kind
    return retries


def update_retries(path: Path, failed: dict[str, str], fetched: set[str]) -> None:
    """The list after a run: what it fetched taken off, what failed in it added (atomically)."""
    before = read_retries(path)
    after = {url: kind for url, kind in before.items() if url not in fetched} | failed
    if after == before:
        return
    if not after:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, "".join(f"{kind}\t{url}\n" for url, kind in sorted(after.items())[:MAX_RETRIES]))
