"""Seeded, deterministic demo film-review site with an HTTP server and JSONL ground truth.

>>> site = DemoSite(films=40, reviews_per_film=75, seed=7)
>>> server = serve_in_thread(site)          # server.url, server.requested_paths, server.shutdown()
>>> write_truth(site, "truth.jsonl")
"""

from __future__ import annotations

from typing import Any

from .site import DemoSite, Review
from .truth import write_truth

__all__ = ["DemoServer", "DemoSite", "Review", "serve_in_thread", "write_truth"]


def __getattr__(name: str) -> Any:
    # Imported lazily so `python -m flows.demosite.server` does not import the module twice.
    if name in ("DemoServer", "serve_in_thread"):
        from . import server

        return getattr(server, name)
    raise AttributeError(name)
