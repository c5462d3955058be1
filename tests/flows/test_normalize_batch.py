"""The batch normalizer on a small landing file: one test per kind of row it must handle."""

import json

import duckdb
import pytest

from flows.normalize.batch import drop_normalized, normalize_landing
from flows.normalize.language import detect_language


def item(**overrides):
    base = {
        "source": "demo", "url": "https://x/review/1/", "source_review_id": "r1", "film_title": "Her",
        "film_year": "2013", "external_ids": {}, "critic_name": "Ann Lee", "critic_url": None, "outlet": "Paper",
        "audience": "critic", "rating_raw": "8/10", "rating_value": None, "rating_best": None,
        "rating_worst": None, "review_title": None, "body": "A tender and wonderful film about love.",
        "published_raw": "2026-11-20", "language_declared": "en", "fetched_at": "2026-11-25T10:00:00+00:00",
        "run_id": "run-1", "page_url": None, "syntax": "json-ld",
    }
    return base | overrides


@pytest.fixture
def landing(tmp_path):
    def write(*items, extra_lines=()):
        path = tmp_path / "run-1.jsonl"
        # As the crawler lands them: UTF-8, not escaped, so a U+2028 in a body stays one character.
        lines = [json.dumps(i, ensure_ascii=False) for i in items] + list(extra_lines)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path
    return write


def rows_by_id(batch):
    return {row["source_review_id"]: row for row in batch.rows.to_pylist()}


def test_plain_rated_review_is_scored_folded_and_hashed(landing):
    batch = normalize_landing(landing(item(body="  A tender   and wonderful film.  ")), [])
    row = rows_by_id(batch)["r1"]
    assert (row["score"], row["is_positive"], row["score_source"]) == (80.0, True, "explicit")
    assert row["body"] == "A tender and wonderful film."
    assert row["language"] == "en" and isinstance(row["content_hash"], int) and row["film_year"] == 2013


def test_markup_and_mojibake_bodies_are_cleaned_in_python(landing):
    batch = normalize_landing(landing(
        item(body="<p>Tom &amp; Jerry cafÃ©</p>"),
        item(source_review_id="r2", url="https://x/review/2/", syntax="feed",
             body="<p>Loved it</p><script>alert(1)</script>")), [])
    rows = rows_by_id(batch)
    assert rows["r1"]["body"] == "Tom & Jerry café"
    assert rows["r2"]["body"] == "Loved it"


def test_undeclared_language_is_detected_from_the_text(landing):
    batch = normalize_landing(landing(item(
        language_declared=None, body="C'est un film magnifique, touchant et drôle, je le recommande vivement.")), [])
    assert rows_by_id(batch)["r1"]["language"] == "fr"


def test_unrated_review_gets_an_inferred_score(landing):
    batch = normalize_landing(landing(item(rating_raw=None, body="A wonderful, brilliant and moving film.")), [])
    row = rows_by_id(batch)["r1"]
    assert row["score_source"] == "inferred" and row["score"] > 60


@pytest.mark.parametrize(("declared", "body"), [
    ("pt", "Um filme lindo, emocionante e perfeito. Obra-prima absoluta, brilliant!"),
    (None, "Ein wunderschöner, bewegender und perfekter Film. Ein absolutes Meisterwerk."),
])
def test_unrated_review_not_in_english_gets_no_inferred_score(landing, declared, body):
    # The lexicon is English; its words in other languages ("perfect", "brilliant") measure nothing.
    row = rows_by_id(normalize_landing(landing(item(rating_raw=None, language_declared=declared, body=body)), []))
    assert (row["r1"]["score"], row["r1"]["score_source"]) == (None, None)


def test_plain_english_on_a_page_tagged_uk_is_read_as_english_and_scored(landing):
    # lang="uk" is Ukrainian; British sites write it meaning the UK. ASCII text is not Ukrainian.
    body = "A wonderful, brilliant and moving film — the best thing I’ve seen all year."
    row = rows_by_id(normalize_landing(landing(item(rating_raw=None, language_declared="uk", body=body)), []))["r1"]
    assert row["language"] == "en" and row["score_source"] == "inferred" and row["score"] > 60


def test_ukrainian_text_declared_uk_keeps_its_language_and_gets_no_inferred_score(landing):
    body = "Чудовий фільм, дуже зворушливий. Найкраще, що я бачив цього року."
    row = rows_by_id(normalize_landing(landing(item(rating_raw=None, language_declared="uk", body=body)), []))["r1"]
    assert row["language"] == "uk" and row["score"] is None


def test_latin_script_language_declared_for_ascii_text_is_trusted(landing):
    # Only a declared language of another script is doubted; French without accents is still French.
    row = rows_by_id(normalize_landing(landing(item(language_declared="fr", body="A great film, truly.")), []))
    assert row["r1"]["language"] == "fr"


@pytest.mark.parametrize(("body", "language"), [
    ("Фильм Great Gatsby — скучный и плохой, не советую.", "ru"),  # language QA: scored 81, as English
    ("素晴らしい映画でした。役者の演技も音楽も最高です。", "ja"),
])
def test_text_in_another_script_under_a_declared_latin_language_is_detected_and_not_scored(landing, body, language):
    row = rows_by_id(normalize_landing(landing(item(rating_raw=None, language_declared="en", body=body)), []))["r1"]
    assert (row["language"], row["score"], row["score_source"]) == (language, None, None)


@pytest.mark.parametrize("body", ["Отличный фильм!", "Шедевр", "最高の映画"])
def test_text_mostly_in_another_script_too_short_to_detect_does_not_keep_a_declared_latin_language(landing, body):
    # Review: keeping the declared language whenever detection could not tell made these English.
    row = rows_by_id(normalize_landing(landing(item(rating_raw=None, language_declared="en", body=body)), []))["r1"]
    assert row["language"] is None
    assert detect_language(body, "en") is None


@pytest.mark.parametrize("body", [
    "Андрей Тарковский: Stalker is a slow, hypnotic film about desire and faith that rewards patience.",
    "«Сталкер» (Stalker) is a slow, hypnotic film about desire and faith that rewards patience.",
])
def test_english_declared_and_opening_with_a_cyrillic_name_keeps_its_language_when_detection_cannot_tell(
        landing, body):
    # Detection, asked because of the Cyrillic, could not tell: the review lost its language (review).
    row = rows_by_id(normalize_landing(landing(item(rating_raw=None, language_declared="en", body=body)), []))["r1"]
    assert (row["language"], row["score_source"]) == ("en", "inferred")
    assert detect_language(body, "en") == "en"


@pytest.mark.parametrize(("declared", "body", "language"), [
    ("ces", "Super film, bomba!", "cs"),  # "ces" was no language, and this text too short to detect: scored as English
    ("ukr", "Чудовий фільм!", "uk"),
    ("heb", "סרט נהדר!", "he"),
    ("nb-NO", "Super film, bomba!", "no"),  # as fastText names Norwegian
    ("CES", "Super film, bomba!", "cs"),
])
def test_a_three_letter_code_or_bokmal_declares_the_language_detection_names(landing, declared, body, language):
    row = rows_by_id(normalize_landing(landing(item(rating_raw=None, language_declared=declared, body=body)), []))["r1"]
    assert (row["language"], row["score"]) == (language, None)


@pytest.mark.parametrize("declared", ["nan", "unk", "new", "Her"])
def test_a_placeholder_or_word_of_three_letters_declares_no_language(landing, declared):
    # A dump's missing value ("nan") named Min Nan, and the review lost its inferred score (review).
    body = "A wonderful, brilliant and moving film."
    row = rows_by_id(normalize_landing(landing(item(rating_raw=None, language_declared=declared, body=body)), []))["r1"]
    assert (row["language"], row["score_source"]) == ("en", "inferred")


def test_unrated_short_text_of_unknown_language_is_still_scored(landing):
    row = rows_by_id(normalize_landing(landing(item(rating_raw=None, language_declared=None, body="Loved it!")), []))
    assert row["r1"]["language"] is None and row["r1"]["score_source"] == "inferred" and row["r1"]["score"] > 60


def test_minutes_ago_just_after_utc_midnight_is_the_fetch_day(landing):
    batch = normalize_landing(landing(item(published_raw="10 minutes ago", fetched_at="2026-11-26T00:50:00+00:00")), [])
    assert str(rows_by_id(batch)["r1"]["published_on"]) == "2026-11-26"


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
def test_fetched_at_without_a_zone_is_utc_whatever_the_session_zone(landing, zone):
    duck = duckdb.connect()
    duck.execute(f"set TimeZone = '{zone}'")
    batch = normalize_landing(landing(item(published_raw="3 hours ago", fetched_at="2026-11-26T02:00:00")), [],
                              duck=duck)
    row = duck.sql(f"select fetched_at, published_on from {batch.rows}").fetchall()
    drop_normalized(duck)
    assert [(str(fetched), str(published)) for fetched, published in row] == [("2026-11-26 02:00:00", "2026-11-25")]



def test_a_date_years_before_its_film_is_kept_and_flagged(landing):
    batch = normalize_landing(landing(
        item(published_raw="03/02/05"),  # Her (2013): a misread date, or another film's review
        item(source_review_id="r2", url="https://x/review/2/", published_raw="2011-09-14"),  # a festival review
        item(source_review_id="r3", url="https://x/review/3/", film_year=None, film_title="Moon",
             published_raw="2005-03-02")), [])  # a film of no known year: nothing to compare with
    rows = rows_by_id(batch)
    assert str(rows["r1"]["published_on"]) == "2005-03-02"
    assert rows["r1"]["date_problem"] == "date before film: 2005-03-02 is over two years before the film's year 2013"
    assert (str(rows["r2"]["published_on"]), rows["r2"]["date_problem"]) == ("2011-09-14", None)
    assert (str(rows["r3"]["published_on"]), rows["r3"]["date_problem"]) == ("2005-03-02", None)


def test_a_future_date_keeps_its_own_problem_before_its_film(landing):
    row = rows_by_id(normalize_landing(landing(item(published_raw="2031-01-01")), []))["r1"]
    assert row["date_problem"].startswith("future date: 2031-01-01")

def test_impossible_rating_keeps_the_review_and_records_the_problem(landing):
    row = rows_by_id(normalize_landing(landing(item(rating_raw="11/10")), []))["r1"]
    assert row["score"] is None and row["score_source"] is None and "11/10" in row["rating_problem"]


def test_unreadable_line_and_invalid_item_become_rejects_and_are_counted(landing):
    path = landing(item(), item(source_review_id="r2", url=None, critic_name=" "), extra_lines=['{"source": "de'])
    batch = normalize_landing(path, [])
    assert batch.scraped == 3
    assert list(rows_by_id(batch)) == ["r1"]
    reasons = sorted(r.reason for r in batch.rejects)
    assert reasons == ["missing url; no author", "unreadable JSON line 3"]


def test_a_last_line_cut_off_by_a_killed_crawl_is_rejected_as_cut_off(landing):
    # It read as "unreadable JSON line", a reject with no explanation, though the next crawl loads the review.
    path = landing(item(), extra_lines=['{"source": "de'])
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # killed mid-write: no newline after it
    batch = normalize_landing(path, [])
    assert list(rows_by_id(batch)) == ["r1"] and batch.scraped == 2
    assert [r.reason for r in batch.rejects] == ["line 2 was cut off: the crawl was stopped while writing it (a "
                                                 "later crawl fetches its review again)"]


def test_a_whole_last_object_without_its_newline_gets_validations_reason_not_cut_off(landing):
    path = landing(item(), item(source_review_id="r2", url=None, critic_name=" "))
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    assert [r.reason for r in normalize_landing(path, []).rejects] == ["missing url; no author"]


def test_a_last_line_cut_inside_a_character_is_cut_off_too(landing):
    # Landed as UTF-8 (not \u escapes), a kill can cut a Cyrillic letter in half: it read "not valid UTF-8" (review).
    path = landing(item(), extra_lines=['{"source": "demo", "body": "Отл'])
    path.write_bytes(path.read_bytes().rstrip(b"\n")[:-1])  # half of "л"
    batch = normalize_landing(path, [])
    assert [r.reason for r in batch.rejects] == ["line 2 was cut off: the crawl was stopped while writing it (a "
                                                 "later crawl fetches its review again)"]
    assert batch.rejects[0].raw["line"].endswith("\\xd0")


def test_with_a_connection_rows_stay_in_duckdb_until_dropped(landing):
    conn = duckdb.connect()
    batch = normalize_landing(landing(item(), item(source_review_id="r2", url="https://x/review/2/")), [], duck=conn)
    assert batch.rows == "normalized_batch"
    assert conn.execute("select count(*) from normalized_batch").fetchall() == [(2,)]
    drop_normalized(conn)
    left = conn.execute("select table_name from information_schema.tables where table_catalog = 'temp'").fetchall()
    assert left == [("vader_lexicon",)]  # kept on purpose: the next batch reuses it


def test_unreadable_line_is_named_by_its_line_in_the_file_past_blank_lines_and_u2028(landing):
    body = "A line\u2028separator inside a body, and a fine film."
    path = landing(item(body=body), extra_lines=["", "   ", '{"source": "de'])
    batch = normalize_landing(path, [])
    assert [(r.reason, r.raw) for r in batch.rejects] == [("unreadable JSON line 4", {"line": '{"source": "de'})]
    assert batch.scraped == 2 and list(rows_by_id(batch)) == ["r1"]


def test_hashes_match_what_a_rehash_of_the_stored_row_gives(landing):
    from warehouse.hashing import define_hash_macros

    row = rows_by_id(normalize_landing(landing(item(review_title="Tender", body="A Tender film.")), []))["r1"]
    # The expressions warehouse/sql/hashing/rehash.sql applies to the stored columns.
    conn = duckdb.connect()
    define_hash_macros(conn)
    expected = conn.execute("select text_hash_of($body), content_hash_of($title, text_hash_of($body), $rating, "
                            "$score, $source)",
                            {"body": row["body"], "title": row["title"], "rating": row["rating_raw"],
                             "source": row["score_source"], "score": row["score"]}).fetchone()
    assert (row["text_hash"], row["content_hash"]) == expected and None not in expected


def test_a_review_without_body_has_no_text_hash_but_a_content_hash(landing):
    row = rows_by_id(normalize_landing(landing(item(body=None)), []))["r1"]
    assert row["text_hash"] is None and row["content_hash"] is not None


@pytest.mark.parametrize("line", ["[1, 2]", "null"])
def test_a_line_that_is_json_but_not_an_object_is_rejected_with_its_text(landing, line):
    batch = normalize_landing(landing(item(), extra_lines=[line]), [])
    assert list(rows_by_id(batch)) == ["r1"] and batch.scraped == 2
    assert [(r.reason, r.raw) for r in batch.rejects] == [("line 2 is JSON but not an object", {"line": line})]


def test_a_line_that_is_not_utf8_is_rejected_with_its_bytes_shown(tmp_path):
    good = json.dumps(item(), ensure_ascii=False).encode()
    bad = json.dumps(item(source_review_id="r2", url="https://x/review/2/", body="café")).encode()
    path = tmp_path / "run-1.jsonl"
    path.write_bytes(good + b"\n" + bad.replace(b"\\u00e9", b"\xe9") + b"\n")
    batch = normalize_landing(path, [])
    assert list(rows_by_id(batch)) == ["r1"] and batch.scraped == 2
    [reject] = batch.rejects
    assert reject.reason.startswith("line 2 is not valid UTF-8") and "caf\\xe9" in reject.raw["line"]


def test_an_item_over_duckdbs_16_mb_object_limit_is_read_not_fatal(landing):
    body = "A long and tender film. " * 750_000  # 18 MB
    batch = normalize_landing(landing(item(), item(source_review_id="r2", url="https://x/review/2/", body=body),
                                      extra_lines=['{"source": "de']), [])
    rows = rows_by_id(batch)
    assert sorted(rows) == ["r1", "r2"] and len(rows["r2"]["body"]) == len(body.strip())
    assert [r.reason for r in batch.rejects] == ["unreadable JSON line 3"]


def test_a_review_with_only_a_structured_rating_is_kept_and_its_value_is_the_raw_rating(landing):
    batch = normalize_landing(landing(item(rating_raw=None, rating_value="4", rating_best="5", body=None)), [])
    assert batch.rejects == []
    (row,) = batch.rows.to_pylist()
    assert (row["rating_raw"], row["score"], row["score_source"]) == ("4", 75.0, "explicit")


def test_a_review_whose_author_is_only_an_address_is_rejected_saying_so(landing):
    path = landing(item(critic_name=None, critic_url="https://x/critics/jane-doe"))
    batch = normalize_landing(path, [])
    assert [r.reason for r in batch.rejects] == [
        "no author name (the page gives only the address https://x/critics/jane-doe)"]


def test_an_audience_in_other_case_or_padded_or_plural_is_the_one_it_names(landing):
    # "User" and " CRITIC " (Excel exports, padded CSV) rejected whole dumps as "unknown audience User".
    spellings = {"u1": "User", "c1": " CRITIC ", "u2": "users", "x1": "Top critic"}
    batch = normalize_landing(landing(*(item(source_review_id=key, url=f"https://x/review/{key}/", audience=value)
                                        for key, value in spellings.items())), [])
    assert {key: row["audience"] for key, row in rows_by_id(batch).items()} == {"u1": "user", "c1": "critic",
                                                                               "u2": "user"}
    assert [reject.reason for reject in batch.rejects] == ["unknown audience 'Top critic' (critic or user)"]


def test_a_refused_item_is_kept_in_its_reject_exactly_as_it_landed(landing):
    # Rebuilt from the staged columns, a reject lost the dump's other_ratings and co_authors and held
    # external_ids as a JSON string (lineage QA); after `reviews prune` it is the only copy left.
    refused = item(source_review_id="r2", critic_name="  ", external_ids={"imdb": "tt1111111"}, other_ratings=["7"],
                   co_authors=["Bo"], audience="User")
    batch = normalize_landing(landing(item(), refused), [])
    (reject,) = batch.rejects
    assert reject.reason == "no author" and reject.raw == refused


def test_a_film_refused_later_keeps_its_item_as_it_landed_too(landing):
    refused = item(source_review_id="r2", film_title="  ", external_ids={"imdb": "tt7654321", "x": [1]},
                   other_ratings=["B+"])
    batch = normalize_landing(landing(item(), refused), [])
    assert [r.raw for r in batch.rejects] == [refused]


def test_a_crawl_reject_holding_a_line_separator_stays_one_reject(tmp_path):
    # Sizes QA: str.splitlines() cut it at U+2028 and U+2029 into three "unreadable crawl reject line" rows.
    from flows.normalize.batch import crawl_rejects

    path = tmp_path / "run-1.rejects.jsonl"
    lines = [json.dumps({"reason": "no content", "item": {"critic_name": "Ann\u2028Lee\u2029"}}, ensure_ascii=False),
             "", json.dumps({"reason": "no author", "item": {}})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = crawl_rejects(path)
    assert [(r.reason, r.raw) for r in rejects] == [("no content", {"critic_name": "Ann\u2028Lee\u2029"}),
                                                    ("no author", {})]


def test_a_body_or_critic_name_blank_only_once_cleaned_is_refused_as_a_blank_one(landing):
    # Sizes QA: `<p>&nbsp;</p>` with no rating loaded as an empty review in every mart, and critics named only by
    # invisible characters became one nameless critic who topped "Most active critics".
    batch = normalize_landing(landing(
        item(source_review_id="empty", rating_raw=None, body="<p>&nbsp;</p><br/>"),
        item(source_review_id="rated", url="https://x/review/2/", body="<p>\u200b</p>"),
        item(source_review_id="nbsp", url="https://x/review/3/", critic_name="\u00a0"),
        item(source_review_id="zwsp", url="https://x/review/4/", critic_name="\u200b\x1b"),
        item(source_review_id="kept", url="https://x/review/5/", critic_name="???")), [])
    assert sorted(rows_by_id(batch)) == ["kept", "rated"]
    assert rows_by_id(batch)["rated"]["body"] is None and rows_by_id(batch)["rated"]["score"] == 80.0
    assert sorted((r.raw["source_review_id"], r.reason) for r in batch.rejects) == [
        ("empty", "no content: the body is only markup or invisible characters, and there is no rating"),
        ("nbsp", "no author: the name is only invisible characters or markup"),
        ("zwsp", "no author: the name is only invisible characters or markup")]
    assert batch.scraped == 5
