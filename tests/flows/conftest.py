from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.demosite import DemoSite, serve_in_thread, write_truth


class SmallDemo:
    """A small demo site on loopback with its ground truth, for end-to-end tests."""

    def __init__(self, root: Path, films: int = 8, reviews_per_film: int = 20, variant: str = "standard"):
        self.site = DemoSite(films=films, reviews_per_film=reviews_per_film, seed=7, variant=variant)
        self.truth_path = root / "truth.jsonl"
        write_truth(self.site, self.truth_path)
        self.truth = [json.loads(line) for line in self.truth_path.read_text(encoding="utf-8").splitlines()]
        self.server = serve_in_thread(self.site, host="127.0.0.1", port=0)
        self.url = self.server.url


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory):
    demo = SmallDemo(tmp_path_factory.mktemp("demo-site"))
    yield demo
    demo.server.shutdown()
