"""Which two items under one review id are two reviews (crawlers/spiders/clashes.py): the same review named two ways
is no clash."""

from __future__ import annotations

import pytest

from crawlers.items import ReviewItem
from crawlers.spiders.clashes import IdClashes


def _item(film: str, critic: str = "Jane Doe") -> ReviewItem:
    return ReviewItem(source="s", url="https://site.example/r1", source_review_id="r1", film_title=film,
                      critic_name=critic)


@pytest.mark.parametrize("second", ["Her", "her", "Her (2013)", "Her [2013]", "Her  [ 2013 ]"])
def test_the_same_film_named_with_or_without_its_year_is_no_clash(second: str) -> None:
    # "Her [2013]" and "Her" clashed: this rule read only "(2013)", the normalizer reads both (style audit).
    clashes = IdClashes("advice")
    assert clashes.reason(_item("Her [2013]")) is None
    assert clashes.reason(_item(second)) is None


def test_another_film_or_critic_under_the_same_id_is_a_clash() -> None:
    clashes = IdClashes("key the source by page")
    clashes.reason(_item("Her (2013)"))
    assert clashes.reason(_item("Alien")).endswith("key the source by page")
    assert clashes.reason(_item("Her", critic="Ann Other")) is not None
