"""Incremental re-run benchmark: a full crawl+load of the demo site, then a re-run with nothing new.

    .venv/bin/python bench/incremental.py [--reviews 5000]

Prints both runs' wall time and the requests the site served, and the ratios (target: the re-run costs at
most 10% of the full run's time and requests). Both runs go through the real `pipeline` flow (crawl in a
child process, normalize, load, marts) against the demo site served from its own process.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# bench/warehouse.py is named like the `warehouse` package; keep this folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]


def serve_site(reviews: int, log: Path) -> tuple[subprocess.Popen[str], str]:
    films = 40
    command = [sys.executable, "-m", "flows.demosite.server", "--port", "0", "--films", str(films),
               "--reviews-per-film", str(max(10, reviews // films)), "--seed", "7", "--request-log", str(log)]
    site = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert site.stdout is not None
    return site, site.stdout.readline().strip()


def requests_served(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-incremental-") as tmp:
        root = Path(tmp)
        from flows.settings import configure

        configure(root)  # as the CLI does: project-local PREFECT_HOME, analytics off, quiet logs
        from flows.pipeline import SourceSpec, pipeline

        log = root / "requests.log"
        site, url = serve_site(args.reviews, log)
        try:
            spec = SourceSpec("schema_org", [url + "sitemap.xml"], "demo", incremental=True)
            pipeline([], str(root))  # start Prefect's temporary server outside the timed runs
            timings = []
            for label in ("full run", "re-run, nothing new"):
                before, started = requests_served(log), time.perf_counter()
                result = pipeline([spec], str(root))
                timings.append((label, time.perf_counter() - started, requests_served(log) - before,
                                sum(x["loaded"] for x in result.loads)))
        finally:
            site.terminate()
            site.wait()
    for label, seconds, requests, loaded in timings:
        print(f"{label:22s} {seconds:7.1f} s  {requests:6d} requests  {loaded:6d} reviews loaded")
    (_, full_s, full_r, _), (_, re_s, re_r, _) = timings
    time_ratio, request_ratio = re_s / full_s, re_r / max(full_r, 1)
    verdict = "met" if time_ratio <= 0.1 and request_ratio <= 0.1 else "NOT met"
    print(f"re-run / full: time {time_ratio:.3f}, requests {request_ratio:.3f} (target <= 0.1 each): target {verdict}")


if __name__ == "__main__":
    main()
