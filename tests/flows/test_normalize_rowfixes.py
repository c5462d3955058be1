"""Which texts go to Python: a text SQL only space-folds must come out as clean_text would give it."""

import json
import unicodedata

import pytest

from flows.normalize.batch import normalize_landing
from flows.normalize.text import clean_review_text, clean_text


def item(number: int, body: str, syntax: str = "json-ld") -> dict:
    return {
        "source": "demo", "url": f"https://x/review/{number}/", "source_review_id": f"r{number}",
        "film_title": "Her", "film_year": "2013", "external_ids": {}, "critic_name": "Ann Lee", "critic_url": None,
        "outlet": "Paper", "audience": "critic", "rating_raw": "8/10", "rating_value": None, "rating_best": None,
        "rating_worst": None, "review_title": None, "body": body, "published_raw": "2026-11-20",
        "language_declared": "en", "fetched_at": "2026-11-25T10:00:00+00:00", "run_id": "run-1", "page_url": None,
        "syntax": syntax,
    }


def normalized_bodies(tmp_path, bodies: list[str], syntax: str = "json-ld") -> list[str | None]:
    path = tmp_path / "run-1.jsonl"
    lines = [json.dumps(item(n, b, syntax), ensure_ascii=False) + "\n" for n, b in enumerate(bodies)]
    path.write_text("".join(lines), encoding="utf-8")
    rows = {row["source_review_id"]: row["body"] for row in normalize_landing(path, []).rows.to_pylist()}
    return [rows[f"r{n}"] for n in range(len(bodies))]


I_WANT_IN_PERSIAN = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"

# (body, what a reader gets): texts with nothing else to clean, so only these characters can send them to Python.
INVISIBLE_AND_SPACING = [
    ("a line\u2028separator", "a line separator"),  # a line break inside a paragraph folds like "\n"
    ("one paragraph\u2029another", "one paragraph\n\nanother"),  # a paragraph break stays one
    ("Magnifique\u202f!", "Magnifique !"),  # narrow no-break space folds like U+00A0
    ("math\u205fspace and ogham\u1680space", "math space and ogham space"),
    ("the ﬁrst ﬂoor, eﬀort", "the first floor, effort"),  # Latin ligatures are presentation forms
    ("word\u2060joiner", "wordjoiner"),  # invisible, like U+200B: would only make copies hash apart
    ("object\ufffcreplacement", "objectreplacement"),
    ("old\u206aformat control", "oldformat control"),  # deprecated since Unicode 3.0
    ("family 👨\u200d👩\u200d👧 emoji", "family 👨\u200d👩\u200d👧 emoji"),  # ZWJ joins the emoji sequence
    (f"Persian {I_WANT_IN_PERSIAN}", f"Persian {I_WANT_IN_PERSIAN}"),  # ZWNJ shapes the word
    # direction controls stay: right-to-left text quoting a Latin title needs them
    ("bidi \u202eevil\u202c and \u2066isolate\u2069", "bidi \u202eevil\u202c and \u2066isolate\u2069"),
    ("a mark\u200e stays", "a mark\u200e stays"),
]


@pytest.mark.parametrize(("body", "expected"), INVISIBLE_AND_SPACING)
def test_invisible_and_spacing_characters_read_the_same_from_sql_and_python(tmp_path, body, expected):
    assert clean_text(body, html_markup=False) == expected
    assert normalized_bodies(tmp_path, [body]) == [expected]


def format_space_and_control_characters() -> list[str]:
    """Every character clean_text might change without any markup, mojibake or entity around it."""
    wanted = {"Cc", "Cf", "Zs", "Zl", "Zp"}
    return [chr(c) for c in range(1, 0x110000)
            if unicodedata.category(chr(c)) in wanted or 0xFB00 <= c <= 0xFB4F or c == 0xFFFC]


def test_no_character_is_cleaned_in_python_only(tmp_path):
    bodies = [f"word{c}word" for c in format_space_and_control_characters()]
    differ = [f"U+{ord(b[4]):04X}" for b, got in zip(bodies, normalized_bodies(tmp_path, bodies), strict=True)
              if got != clean_text(b, html_markup=False)]
    assert differ == []


@pytest.mark.parametrize(
    ("syntax", "body"),
    [("json-ld", 'Great <a href="/f">film</a>. "><img src=x onerror=alert(1)>'), ("feed", "<p>Great <b>film</b></p>"),
     ("microdata", "Great film <b>bold</b>"), ("rdfa", 'Great film. "><img src=x onerror=alert(1)>')],
)
def test_flagged_texts_are_cleaned_as_their_syntax_carries_text(tmp_path, syntax, body):
    assert normalized_bodies(tmp_path, [body], syntax) == [clean_review_text(body, syntax)]


def test_plain_ascii_texts_are_flagged_as_the_full_regex_flags_them():
    # ASCII text takes substring tests instead of the regex; they must agree on every ASCII character,
    # beside the quotes and backslashes that send a text's JSON through the regex.
    import duckdb

    from flows.normalize.rowfixes import NEEDS_CLEANING, _needs_python

    texts = [f"word{chr(c)}word" for c in range(1, 128)] + [
        'a "quoted" word', "a back\\slash", 'quote " and\ttab', "plain", "", "  ", "x" * 5000 + "\x1f", None]
    found = duckdb.connect().execute(
        f"select t, {_needs_python('t')}, coalesce(regexp_matches(t, '{NEEDS_CLEANING}'), false) "
        "from unnest($texts) as u(t)", {"texts": texts}).fetchall()
    assert [row[0] for row in found if row[1] != row[2]] == []
    assert sum(row[1] for row in found) == 32 + 2 + 2  # C0 controls and DEL, "<" and "&", the tab and \x1f


def test_languages_detected_chunk_by_chunk_are_those_of_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    # The undeclared texts come as Arrow and reach Python a chunk at a time (1M rows as tuples: ~350 MB).
    import pyarrow as pa

    from flows.normalize import rowfixes

    texts = ["The film is a tender love story.", "Le film est une belle histoire d'amour.",
             "Der Film ist eine zarte Liebesgeschichte.", "La película es una historia de amor."] * 5
    table = pa.table({"row_no": list(range(len(texts))), "text": texts})
    flagged = [(3, "json-ld", True, False, "<p>Il film è una storia d'amore molto tenera.</p>", None)]
    _, whole = rowfixes.clean_flagged(flagged, table)
    monkeypatch.setattr(rowfixes, "DETECT_CHUNK", 3)
    _, chunked = rowfixes.clean_flagged(flagged, table)
    assert chunked["code"] == whole["code"] and whole["code"][:4] == ["en", "fr", "de", "it"]
    assert pa.array(chunked["row_no"]).to_pylist() == list(range(len(texts)))


def test_the_detection_text_fetched_folds_to_what_the_whole_window_folds_to() -> None:
    # Only 80 characters are fetched where folding whitespace changes nothing (a million undeclared texts of 240
    # characters held ~160 MB more); the detector must read the same line either way.
    import random

    import duckdb

    from flows.normalize.language import _MAX_DETECT_CHARS, DETECTION_WINDOW, detection_text_sql

    pieces = ["word", "mot", "Wort", " ", "  ", "\t", "\n", "\u2028", "\xa0", "\u3000", "\x1f", "ß", "é"]
    rng = random.Random(7)
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 120))) for _ in range(2000)]
    texts += ["plain words " * 40, " " * 300 + "late text", "x" * 500]
    fetched = duckdb.sql(f"select t, {detection_text_sql('t')} from unnest(?) as u(t)", params=[texts]).fetchall()

    def line(text: str) -> str:
        return " ".join(text[:DETECTION_WINDOW].split())[:_MAX_DETECT_CHARS]

    assert [line(text) for _, text in fetched] == [line(original.lstrip(" ")) for original, _ in fetched]
    assert sum(len(text) <= _MAX_DETECT_CHARS for _, text in fetched) > 0  # some were cut short
