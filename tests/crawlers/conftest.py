from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, XmlResponse
from scrapy.utils.test import get_crawler

from crawlers.items import ReviewItem

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def make_spider(spider_cls: type, url: str = "https://reviews.example/", **kwargs: Any) -> Any:
    crawler = get_crawler(spider_cls)
    return spider_cls.from_crawler(crawler, url=url, source="test", run_id="run-1", **kwargs)


def html_response(url: str, body: str | bytes, encoding: str = "utf-8") -> HtmlResponse:
    raw = body.encode(encoding) if isinstance(body, str) else body
    return HtmlResponse(url=url, body=raw, encoding=encoding, request=Request(url))


def xml_response(url: str, body: str) -> XmlResponse:
    return XmlResponse(url=url, body=body.encode("utf-8"), encoding="utf-8", request=Request(url))


def split_output(results: list[Any]) -> tuple[list[ReviewItem], list[Request]]:
    items = [r for r in results if isinstance(r, ReviewItem)]
    requests = [r for r in results if isinstance(r, Request)]
    return items, requests


@pytest.fixture
def fixture_page() -> Callable[[str], bytes]:
    return lambda name: (FIXTURES / "pages" / name).read_bytes()


@pytest.fixture
def crafted_page() -> Callable[[str], bytes]:
    """A hand-written page for one edge case (tests/fixtures/crafted/README.md says what each copies)."""
    return lambda name: (FIXTURES / "crafted" / name).read_bytes()
