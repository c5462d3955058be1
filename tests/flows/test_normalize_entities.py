"""HTML entities in review text: decoded as the reader saw them, never twice where a parser already did."""

import pytest

from flows.normalize.text import clean_review_text, clean_text


@pytest.mark.parametrize("syntax", ["profile", "microdata", "rdfa", "json-ld"])
def test_text_a_parser_read_already_keeps_ampersand_words_that_are_not_escapes(syntax):
    # The reader saw "&region=US" and "&copy 1960"; decoding again made them "®ion=US" and "© 1960".
    raw = "Trailer: https://x.example/?v=1&region=US&times=3, Q&A &copy 1960, &not bad, Tom &amp; Jerry, it&#39s"
    assert clean_review_text(raw, syntax) == (
        "Trailer: https://x.example/?v=1&region=US&times=3, Q&A &copy 1960, &not bad, Tom & Jerry, it's")


@pytest.mark.parametrize("raw", ["I&#x27d go", "the &#3990s", "Room &#12345678", "page&#1"])
def test_digits_after_an_ampersand_and_hash_that_make_no_short_escape_stay_text(raw):
    # Decoded greedily, they became "Iɽ go", "the ྖs", a U+FFFD and "page" (review).
    assert clean_review_text(raw, "json-ld") == raw


def test_html_is_decoded_as_a_browser_once_then_only_closed_escapes():
    # A browser shows "&copy 2013" as "© 2013"; a double-escaped "&amp;region=1" shows as "&region=1".
    assert clean_text("<p>Tom &amp;amp; Jerry &copy 2013 &amp;region=1</p>") == "Tom & Jerry © 2013 &region=1"
    assert clean_text("Tom &amp;amp; Jerry &copy 2013 &amp;region=1") == "Tom & Jerry © 2013 &region=1"
