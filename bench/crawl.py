"""Crawl benchmark: the schema_org spider on a 20,000-review demo site vs `scrapy bench`, same machine, same run.

    .venv/bin/python bench/crawl.py [--reviews 20000] [--bench-seconds 20]

Both runs use AUTOTHROTTLE_ENABLED=False, CONCURRENT_REQUESTS=16 and CONCURRENT_REQUESTS_PER_DOMAIN=16 (scrapy bench
otherwise uses per-domain 8 and the crawl would be throttled). They run one after the other, never concurrently:
scrapy bench before and after the crawl (their mean is the reference, so load drift during the long crawl shows). The
demo site runs in its own process so it does not share the crawl's GIL. pages/s is the run's `pages` stat (the
responses the spiders parse, robots.txt not counted) over the crawl's own elapsed time (spider open to close), not
counting interpreter start-up. Exits non-zero only if a crawl or
scrapy bench fails; missing the 0.8x target is reported, not fatal.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# This folder holds incremental.py, named like Twisted's `incremental` dependency: keep it off the import path.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from flows.crawl import run_crawl  # noqa: E402
from flows.errors import ReviewsError  # noqa: E402

TARGET = 0.8
REVIEWS_PER_FILM = 250
SAME_SETTINGS = {"AUTOTHROTTLE_ENABLED": "False", "CONCURRENT_REQUESTS": "16", "CONCURRENT_REQUESTS_PER_DOMAIN": "16"}
_STATS_DUMP = re.compile(r"Dumping Scrapy stats:\s*(\{.*?\})\s*$", re.S | re.M)


@dataclass
class Rate:
    pages: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def start_site(films: int, per_film: int, truth: Path) -> tuple[subprocess.Popen[str], str]:
    """The demo site in its own process; returns it and its base URL once the truth file is written."""
    command = [sys.executable, "-m", "flows.demosite.server", "--port", "0", "--films", str(films),
               "--reviews-per-film", str(per_film), "--seed", "7", "--truth", str(truth)]
    site = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert site.stdout is not None
    url = site.stdout.readline().strip()
    if not url.startswith("http"):
        site.kill()
        raise ReviewsError(f"demo site did not start (printed {url!r})")
    return site, url


def crawl(url: str, data: Path) -> tuple[Rate, int]:
    """Crawl the demo site once; returns its page rate and the reviews it landed."""
    result = run_crawl("schema_org", [url], source="bench", data=data,
                       settings={**SAME_SETTINGS, "LOG_LEVEL": "INFO"}, show_progress=False)
    stats = result.stats
    started, finished = (dt.datetime.fromisoformat(stats[k]) for k in ("started", "finished"))
    if stats.get("finish_reason") != "finished" or stats.get("errors"):
        raise ReviewsError(f"crawl ended {stats.get('finish_reason')!r} with {stats.get('errors')} errors; "
                           f"see {result.log_path}")
    return Rate(int(stats["pages"]), (finished - started).total_seconds()), result.landed


def scrapy_bench(seconds: int) -> Rate:
    """`scrapy bench` from an empty directory without the project's settings; parses its final stats."""
    env = {k: v for k, v in os.environ.items() if k != "SCRAPY_SETTINGS_MODULE"}
    settings = {**SAME_SETTINGS, "CLOSESPIDER_TIMEOUT": str(seconds)}
    command = [sys.executable, "-m", "scrapy", "bench"] + [a for k, v in settings.items() for a in ("-s", f"{k}={v}")]
    with tempfile.TemporaryDirectory(prefix="scrapy-bench-") as empty:
        done = subprocess.run(command, cwd=empty, env=env, capture_output=True, text=True, check=False)
    match = _STATS_DUMP.search(done.stderr)
    if done.returncode != 0 or not match:
        raise ReviewsError(f"scrapy bench failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    stats = ast.literal_eval(re.sub(r"datetime\.datetime\([^)]*\)", "None", match.group(1)))
    return Rate(int(stats["response_received_count"]), float(stats["elapsed_time_seconds"]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reviews", type=int, default=20000, help="reviews on the demo site (250 per film)")
    ap.add_argument("--bench-seconds", type=int, default=20, help="CLOSESPIDER_TIMEOUT for scrapy bench")
    args = ap.parse_args(argv)
    films = max(4, round(args.reviews / REVIEWS_PER_FILM))  # the demo site needs 4+
    per_film = args.reviews // films
    print(f"running scrapy bench for {args.bench_seconds} s (before the crawl)...", flush=True)
    loads = [os.getloadavg()[0]]
    try:
        before = scrapy_bench(args.bench_seconds)
    except ReviewsError as exc:
        print(f"scrapy bench FAILED: {exc}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
        truth_path = Path(tmp) / "truth.jsonl"
        try:
            site, url = start_site(films, per_film, truth_path)
        except ReviewsError as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return 1
        loads.append(os.getloadavg()[0])
        try:
            truth = sum(1 for _ in truth_path.open(encoding="utf-8"))
            print(f"demo site {url}: {films} films x {per_film} reviews = {truth} reviews; crawling...", flush=True)
            crawled, landed = crawl(url, Path(tmp) / "data")
        except ReviewsError as exc:
            print(f"crawl FAILED: {exc}", file=sys.stderr)
            return 1
        finally:
            site.terminate()
            site.wait(timeout=10)
    loads.append(os.getloadavg()[0])
    print(f"running scrapy bench for {args.bench_seconds} s (after the crawl)...", flush=True)
    try:
        after = scrapy_bench(args.bench_seconds)
    except ReviewsError as exc:
        print(f"scrapy bench FAILED: {exc}", file=sys.stderr)
        return 1
    loads.append(os.getloadavg()[0])
    bench_rate = (before.per_second + after.per_second) / 2
    ratio = crawled.per_second / bench_rate if bench_rate else 0.0
    rows = [("crawl pages", f"{crawled.pages}"), ("crawl seconds", f"{crawled.seconds:.1f}"),
            ("crawl pages/s", f"{crawled.per_second:.1f}"),
            ("reviews landed", f"{landed} of {truth} ({'all' if landed == truth else 'MISMATCH'})"),
            ("scrapy bench before", f"{before.pages} pages in {before.seconds:.1f} s = {before.per_second:.1f}/s"),
            ("scrapy bench after", f"{after.pages} pages in {after.seconds:.1f} s = {after.per_second:.1f}/s"),
            ("scrapy bench pages/s", f"{bench_rate:.1f} (mean of before and after)"),
            ("ratio crawl / bench", f"{ratio:.2f}x (target >= {TARGET}x: {'MET' if ratio >= TARGET else 'NOT MET'})")]
    print(f"\n{' '.join(shlex.quote(a) for a in ['bench/crawl.py', *(argv or sys.argv[1:])])}"
          f"  [{dt.date.today()}, {os.cpu_count()} cores, Python {platform.python_version()}]")
    print("1-min load average before bench / before crawl / after crawl / end: "
          + " / ".join(f"{x:.2f}" for x in loads))
    print("both runs: " + ", ".join(f"{k}={v}" for k, v in SAME_SETTINGS.items()))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    if landed != truth:
        print(f"warning: landed {landed} reviews but the site publishes {truth}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
