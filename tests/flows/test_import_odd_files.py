"""Dumps that are odd files: joined exports, repeated column names, UTF-32, compressed or binary files, and
JSON numbers that must land as the dump wrote them."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from flows.dumps import detect_encoding
from flows.errors import ReviewsError
from flows.import_columns import column_map, parse_scale
from flows.importer import import_file

HEADER = "critic,movie_title,review_score,review_content\n"


def landed(result) -> list[dict]:
    return [json.loads(line) for line in result.items.read_text(encoding="utf-8").splitlines()]


def test_the_header_row_met_again_in_joined_exports_is_a_reject_not_a_review(tmp_path: Path) -> None:
    # `cat a.csv b.csv`: the second header loaded as critic "critic" reviewing a film "movie_title".
    dump = tmp_path / "all.csv"
    dump.write_text(HEADER + "Ann,Her,3/4,First.\n" + HEADER + "Carl,Her,2/4,Second.\n", encoding="utf-8")
    result = import_file(dump, "joined", tmp_path / "data")
    assert (result.rows, result.landed, result.rejected) == (3, 2, 1)
    assert [item["critic_name"] for item in landed(result)] == ["Ann", "Carl"]


def test_a_header_naming_a_column_twice_is_one_error_naming_it(tmp_path: Path) -> None:
    # Each row kept the last cell of the name: the first critic and text were dropped without a word.
    dump = tmp_path / "dup.csv"
    dump.write_text("critic,movie_title,review_content,review_content,critic\nA,Her,x,y,B\n", encoding="utf-8")
    with pytest.raises(ReviewsError, match="the header names 'critic', 'review_content' more than once"):
        import_file(dump, "dup", tmp_path / "data")


def test_a_utf32_dump_is_read_as_utf32_not_as_utf16(tmp_path: Path) -> None:
    # Its BOM FF FE 00 00 starts with UTF-16's FF FE: every value held NULs and "3/4" got no score.
    dump = tmp_path / "d.csv"
    dump.write_bytes((HEADER + "Ann Bee,Her,3/4,Tender.\n").encode("utf-32"))
    assert detect_encoding(dump) == "utf-32"
    result = import_file(dump, "wide", tmp_path / "data")
    assert (result.rows, result.landed, result.rejected) == (1, 1, 0)
    assert landed(result)[0]["rating_raw"] == "3/4"


@pytest.mark.parametrize(("data", "kind"), [(gzip.compress(HEADER.encode() * 50, mtime=0), "a gzip-compressed file"),
                                            (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "a PNG image")],
                         ids=["gzip", "png"])
def test_a_compressed_or_binary_file_is_named_for_what_it_is(tmp_path: Path, data: bytes, kind: str) -> None:
    # It was told to give an --encoding, which only moved the error to "columns: \x89PNG".
    dump = tmp_path / "dump.csv"
    dump.write_bytes(data)
    with pytest.raises(ReviewsError, match=f"{kind}, not a text dump; give a CSV or JSON-lines file"):
        import_file(dump, "binary", tmp_path / "data")


def test_json_numbers_land_as_the_dump_wrote_them(tmp_path: Path) -> None:
    # Python's parser made 1e309 "Infinity", 1E1 "10.0" and 7.50 "7.5" in rating_raw.
    dump = tmp_path / "d.jsonl"
    dump.write_text("".join(f'{{"critic": "N{i}", "film": "Her", "text": "Fine.", "rating": {number}}}\n'
                            for i, number in enumerate(("1e309", "1E1", "7.50", "8"))), encoding="utf-8")
    result = import_file(dump, "numbers", tmp_path / "data")
    assert [item["rating_raw"] for item in landed(result)] == ["1e309", "1E1", "7.50", "8"]


def test_a_misspelt_column_is_named_with_the_mapping_that_would_use_it(tmp_path: Path) -> None:
    # Its ratings were lost without a word and the reviews got inferred scores (1/5 read as 95.4).
    from typer.testing import CliRunner

    from flows.cli import app

    dump = tmp_path / "d.csv"
    dump.write_text("critic,movie_title,reveiw_score,review_content,top_critic\nAnn,Her,1/5,Dull.,true\n",
                    encoding="utf-8")
    done = CliRunner().invoke(app, ["import", str(dump), "--source", "typo", "--data-dir", str(tmp_path / "d"),
                                    "--no-load", "--quiet"])
    assert done.exit_code == 0, done.output
    assert done.stderr.splitlines() == [
        "warning: column 'reveiw_score' is not used; if it holds rating_raw, add --map rating_raw=reveiw_score"]


def test_this_projects_landing_items_imported_keep_their_external_ids(tmp_path: Path) -> None:
    # "A dump of this project's landing items maps itself", but the external_ids object was dropped.
    dump = tmp_path / "items.jsonl"
    dump.write_text(json.dumps({"url": "https://x/r/1", "source_review_id": "r1", "film_title": "Her",
                                "critic_name": "Ann", "body": "Tender.",
                                "external_ids": {"imdb": "tt1798709", "tmdb": 152601}}) + "\n", encoding="utf-8")
    result = import_file(dump, "again", tmp_path / "data")
    assert landed(result)[0]["external_ids"] == {"imdb": "tt1798709", "tmdb": "152601"}


def test_a_quote_left_open_at_the_end_of_the_file_rejects_its_row_instead_of_swallowing_the_rest(
        tmp_path: Path) -> None:
    # R3 and R4 landed inside R2's body: 4 rows in the dump, 2 scraped, none rejected.
    dump = tmp_path / "eof.csv"
    dump.write_text('critic,movie_title,review_content\nR1,Her,ok one\nR2,Her,"he said ""wow"" and then\n'
                    'R3,Her,a whole other review\nR4,Her,and another one\n', encoding="utf-8")
    result = import_file(dump, "eof", tmp_path / "data")
    assert (result.landed, result.rejected) == (1, 1)
    rejects = result.items.with_name(result.items.name.removesuffix(".jsonl") + ".rejects.jsonl")
    assert "an unclosed quote runs from line 3 to the end of the file" in rejects.read_text(encoding="utf-8")


def test_a_well_quoted_cell_with_line_breaks_in_the_last_row_still_loads(tmp_path: Path) -> None:
    dump = tmp_path / "ok.csv"
    dump.write_text('critic,movie_title,review_content\nR1,Her,ok one\nR2,Her,"two\nlines, ""quoted"""\n',
                    encoding="utf-8")
    result = import_file(dump, "multi", tmp_path / "data")
    assert (result.landed, result.rejected) == (2, 0)
    assert landed(result)[1]["body"] == 'two\nlines, "quoted"'


PRETTY_OBJECT = '{\n  "critic": "Ann",\n  "film": "Her",\n  "text": "Tender."\n}\n'


@pytest.mark.parametrize("text", ["", "\n\n", PRETTY_OBJECT, "42\n"], ids=["empty", "blank", "pretty-object", "number"])
def test_a_json_file_with_no_object_to_read_says_so_instead_of_blaming_a_critic_column(tmp_path: Path,
                                                                                      text: str) -> None:
    # It said "no critic column …; columns: " with nothing listed, even for an object that has a critic.
    dump = tmp_path / "d.jsonl"
    dump.write_text(text, encoding="utf-8")
    with pytest.raises(ReviewsError, match="no review in it: neither one JSON object per line nor one JSON array"):
        import_file(dump, "empty", tmp_path / "data")


def test_a_broken_json_line_is_named_by_its_own_line_and_column(tmp_path: Path) -> None:
    # The reason said "… line 1 column 40" for line 3: each line is parsed alone.
    dump = tmp_path / "d.jsonl"
    good = '{"critic": "Ann", "film": "Her", "text": "Fine."}\n'
    dump.write_text(good + good.replace("Ann", "Bob") + '{"critic": "Cy" "film": "Her"}\n' + good.replace("Ann", "Di")
                    + '{"critic": "Ed", "text": "Fine\u0007"\n', encoding="utf-8")
    result = import_file(dump, "broken", tmp_path / "data")
    rejects = result.items.with_name(result.items.name.removesuffix(".jsonl") + ".rejects.jsonl")
    reasons = [json.loads(line)["reason"] for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert reasons == ["d.jsonl: unreadable JSON line 3: Expecting ',' delimiter at column 17",
                       "d.jsonl: unreadable JSON line 5: Invalid control character at column 31"]


def test_a_utf8_dump_with_a_windows_1252_line_keeps_both_readings_right(tmp_path: Path) -> None:
    # Read whole as a code page (iso8859-10), every UTF-8 accent became mojibake in titles and names.
    dump = tmp_path / "mixed.csv"
    dump.write_bytes((HEADER + "Zoë Müller,Amélie,4/5,Très belle.\nJürgen,Her,3/5,Schön.\n").encode("utf-8")
                     + "Renée Café,Léon,2/5,Un café crème.\n".encode("cp1252"))
    assert detect_encoding(dump) == "utf-8-or-cp1252"
    result = import_file(dump, "mixed", tmp_path / "data")
    assert (result.landed, result.rejected, result.encoding) == (3, 0, "utf-8-or-cp1252")
    assert [(item["critic_name"], item["film_title"]) for item in landed(result)] == [
        ("Zoë Müller", "Amélie"), ("Jürgen", "Her"), ("Renée Café", "Léon")]


def test_a_utf8_dump_with_a_windows_1251_line_reads_that_line_in_1251(tmp_path: Path) -> None:
    dump = tmp_path / "mixed-ru.csv"
    dump.write_bytes((HEADER + "Zoë,Amélie,4/5,Très belle.\n" * 3).encode("utf-8")
                     + "Иван Петров,Сталкер,5/5,Отличный фильм: очень глубокий и красивый\n".encode("cp1251"))
    assert detect_encoding(dump) == "utf-8-or-cp1251"
    assert landed(import_file(dump, "mixed", tmp_path / "data"))[-1]["critic_name"] == "Иван Петров"


def test_a_utf8_dump_whose_one_code_page_line_is_short_reads_it_in_windows_1252(tmp_path: Path) -> None:
    # Encodings QA: the short line was read in cp1250, "Agnčs" and "chef-d’śuvre".
    dump = tmp_path / "mixed-short.csv"
    dump.write_bytes((HEADER + "Zoë,Amélie,4/5,Très belle.\n" * 3).encode("utf-8")
                     + "Agnès,Cléo,5/5,Un chef-d’œuvre.\n".encode("cp1252"))
    assert detect_encoding(dump) == "utf-8-or-cp1252"
    assert landed(import_file(dump, "mixed", tmp_path / "data"))[-1]["body"] == "Un chef-d’œuvre."


def test_a_code_page_dump_with_one_utf8_line_is_still_read_in_its_code_page(tmp_path: Path) -> None:
    dump = tmp_path / "mostly-1252.csv"
    dump.write_bytes((HEADER + "Zoë,Amélie,4/5,Très belle.\n" * 3).encode("cp1252")
                     + "Jürgen,Her,3/5,Schön.\n".encode())
    assert not detect_encoding(dump).startswith("utf-8")  # a Windows code page (which one is charset-normalizer's)


def test_the_mixed_codec_drops_a_bom_and_keeps_bytes_the_code_page_leaves_undefined() -> None:
    assert b"\xef\xbb\xbfcaf\xc3\xa9\ncaf\xe9".decode("utf-8-or-cp1252") == "café\ncafé"
    assert b"\xef\xbb\xbfcaf\xe9".decode("utf-8-or-cp1252") == "café"
    assert b"\x81\x9d".decode("utf-8-or-cp1252") == "\x81\x9d"  # undefined in cp1252: kept, not U+FFFD
    assert "Zoë".encode("utf-8-or-cp1252") == "Zoë".encode()


def test_a_code_page_line_is_read_whole_in_the_code_page_even_where_a_pair_of_its_bytes_is_utf8() -> None:
    # "ß“" is DF 93 in cp1252, a valid two-byte UTF-8 sequence (U+07D3) when read byte by byte (review).
    line = "„Viele Grüße“ und ein „Gruß“"
    assert ("Zoë\n".encode() + line.encode("cp1252") + b"\n").decode("utf-8-or-cp1252") == f"Zoë\n{line}\n"


def test_the_mixed_codec_reads_lines_cut_across_the_reading_buffer(tmp_path: Path) -> None:
    # Read line by line, as the importer reads: io decodes 8 KB chunks, and a line cut between two must
    # still be read whole (read_text decodes the file in one call and could not tell: review).
    path = tmp_path / "long.txt"
    for pad in range(8185, 8200):
        path.write_bytes(b"a" * pad + "café crème\n".encode() + "Renée\n".encode("cp1252") + b"\xef\xbb\xbf\n")
        with path.open(encoding="utf-8-or-cp1252") as handle:
            assert handle.readlines()[-3:] == ["a" * pad + "café crème\n", "Renée\n", "\ufeff\n"]


def test_the_mixed_codec_keeps_a_long_lines_chunks_apart_until_its_end() -> None:
    # It rescanned the whole waiting line at each chunk: a 16 MB line took 6 s, a 15 MB JSON array 18 s
    # (review). Chunks without a line break now only wait, and are joined once.
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8-or-cp1252")()
    chunk = b'"caf\xc3\xa9",' * 400
    assert all(decoder.decode(chunk) == "" for _ in range(1000))
    assert len(decoder.waiting) == 1000
    assert decoder.decode(b"\n", final=True) == '"café",' * 400_000 + "\n"


def test_the_mixed_encoding_can_be_given_and_a_multibyte_fallback_is_no_encoding(tmp_path: Path) -> None:
    dump = tmp_path / "given.csv"
    dump.write_bytes((HEADER + "Ann,Her,3/4,Fine.\n").encode("utf-8") + "Zoë,Léon,2/4,Bof.\n".encode("cp1252"))
    given = import_file(dump, "given", tmp_path / "data", encoding="utf-8-or-cp1252")
    assert landed(given)[-1]["critic_name"] == "Zoë"
    with pytest.raises(ReviewsError, match="no text encoding"):
        import_file(dump, "other", tmp_path / "data", encoding="utf-8-or-shift_jis")


def test_an_import_error_on_a_pipe_is_its_one_line_without_a_blank_line_before_it(tmp_path: Path) -> None:
    # The progress display, stopped on a stream that is no terminal, printed an empty line first (README QA).
    from typer.testing import CliRunner

    from flows.cli import app

    dump = tmp_path / "h.csv"
    dump.write_text(HEADER + "Ann,Her,3/4,Fine.\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["import", str(dump), "--source", "x", "--audience", "robots",
                                      "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 2
    assert result.output.startswith("error: --audience must be one of critic, user")


def test_a_scale_given_for_a_dump_without_one_scores_its_bare_ratings(tmp_path: Path) -> None:
    # Letterboxd's export: 0.5-5 stars as bare numbers, unscored ("ambiguous scale") with no way to say so,
    # or read on schema.org's 1-5 through rating_value (3 stars scored 50, a negative verdict: dumps QA).
    from flows.load import load, normalize, pending_batches
    from warehouse.db import open_writer, warehouse_path

    dump = tmp_path / "reviews.csv"
    dump.write_text("Date,Name,Year,Letterboxd URI,Rating,Review,Username,Out Of\n"
                    "2024-01-02,Past Lives,2023,https://boxd.it/a,4.5,Tender.,maria,\n"
                    "2024-01-03,Cats,2019,https://boxd.it/b,0.5,No.,maria,\n"
                    "2024-01-04,Dune,2021,https://boxd.it/c,3,Fine.,maria,\n"
                    "2024-01-05,Heat,1995,https://boxd.it/d,8,Its own scale.,maria,10\n", encoding="utf-8")
    root = tmp_path / "data"
    result = import_file(dump, "lb", root, {"film_title": ["Name"], "rating_best": ["Out Of"]}, "user",
                         scale=parse_scale("5"))
    assert result.landed == 4
    with open_writer(warehouse_path(root)) as conn:
        for batch in pending_batches(conn, root):
            load(conn, batch, normalize(conn, batch))
        scores = dict(conn.execute("select f.title, r.score from reviews r join films f using (film_id)").fetchall())
    assert scores == {"Past Lives": 90.0, "Cats": 10.0, "Dune": 60.0, "Heat": 80.0}


@pytest.mark.parametrize(("given", "expected"), [("5", ("5", "0")), ("1-10", ("10", "1")), ("0.5 to 5", ("5", "0.5")),
                                                 (None, None)])
def test_a_scale_reads_as_best_or_worst_to_best(given, expected) -> None:
    assert parse_scale(given) == expected


@pytest.mark.parametrize("given", ["five", "5-1", "3-3", "-"])
def test_a_scale_that_is_no_scale_is_one_error(given) -> None:
    with pytest.raises(ReviewsError, match="--scale"):
        parse_scale(given)


def test_two_usual_names_finding_one_column_map_it_once() -> None:
    # The printed mapping said critic_name=Username|Username (dumps QA).
    assert column_map(["Username", "Name", "Review"], {"film_title": ["Name"]}, "d.csv")["critic_name"] == ["Username"]


def test_the_header_row_met_again_with_its_bom_in_joined_exports_is_a_reject(tmp_path: Path) -> None:
    # `cat a.csv b.csv` of two exports that each start with a BOM: the second header loaded as a review (dumps QA).
    dump = tmp_path / "all.csv"
    dump.write_bytes((HEADER + "Ann,Her,3/4,First.\n").encode("utf-8-sig") * 2)
    result = import_file(dump, "joined", tmp_path / "data")
    assert (result.rows, result.landed, result.rejected) == (3, 2, 1)


def test_an_imdb_id_column_of_bare_digits_lands_as_a_tt_id(tmp_path: Path) -> None:
    # MovieLens' imdbId is "0114709": it was dropped without a word, even mapped (dumps QA).
    dump = tmp_path / "links.csv"
    dump.write_text("userId,title,imdbId,rating\n7,Toy Story (1995),0114709,4/5\n", encoding="utf-8")
    result = import_file(dump, "ml", tmp_path / "data", {"critic_name": ["userId"], "film_title": ["title"],
                                                          "imdb_id": ["imdbId"]}, "user")
    assert landed(result)[0]["external_ids"] == {"imdb": "tt0114709"}


def test_a_later_export_without_ids_that_changes_ratings_says_the_stored_ones_were_kept(tmp_path: Path) -> None:
    # Ann's 3/5 became 4/5 and Bob's Fresh Rotten, the texts unchanged: each row was read as a copy of the
    # stored review, counted as a duplicate, and the old ratings stayed without a word (dumps QA).
    from flows.cli import app
    from tests.flows.test_import import row, rt_dump, runner, warehouse_rows

    data = tmp_path / "data"
    first = rt_dump(tmp_path / "rt.csv", [row("Ann", "3/5", "", "Moving."), row("Bob", "", "Fresh", "Dull.")])
    once = runner.invoke(app, ["import", str(first), "--source", "rt", "--data-dir", str(data), "--quiet"])
    assert once.exit_code == 0 and "warning" not in once.output
    again = runner.invoke(app, ["import", str(first), "--source", "rt", "--data-dir", str(data), "--quiet",
                                "--again"])
    assert again.exit_code == 0 and "warning" not in again.output  # the same rows: copies that change nothing
    later = rt_dump(tmp_path / "rt-2.csv", [row("Ann", "4/5", "", "Moving."), row("Bob", "", "Rotten", "Dull.")])
    result = runner.invoke(app, ["import", str(later), "--source", "rt", "--data-dir", str(data), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "warning: 2 rows of this import repeat the text of a review an earlier import of rt loaded, with " \
        "another rating (or none) or title" in " ".join(result.output.split())
    assert warehouse_rows(data, "select rating_raw from reviews order by rating_raw") == [("3/5",), ("Fresh",)]


def test_a_single_accounts_export_without_a_critic_column_lands_under_the_critic_given(tmp_path: Path) -> None:
    # Letterboxd's and IMDb's exports name no author: they were refused, and the file had to be edited (dumps QA).
    dump = tmp_path / "reviews.csv"
    dump.write_text("Date,Name,Year,Letterboxd URI,Rating,Review\n2024-01-02,Past Lives,2023,https://boxd.it/a,4.5,"
                    "Tender.\n", encoding="utf-8")
    with pytest.raises(ReviewsError, match=r"no critic column .* \(or give its one author with --critic NAME\)"):
        import_file(dump, "lb", tmp_path / "data", {"film_title": ["Name"]}, "user")
    result = import_file(dump, "lb", tmp_path / "data", {"film_title": ["Name"]}, "user", critic="maria")
    assert [(item["critic_name"], item["audience"]) for item in landed(result)] == [("maria", "user")]
    # Typed again with other spacing, the same rows get the same keys (they were a second rating: review).
    again = import_file(dump, "lb", tmp_path / "data", {"film_title": ["Name"]}, "user", critic=" maria ",
                        again=True)
    assert [item["source_review_id"] for item in landed(again)] == [item["source_review_id"] for item in landed(result)]
    with pytest.raises(ReviewsError, match="--critic must name"):
        import_file(dump, "lb2", tmp_path / "data", {"film_title": ["Name"]}, "user", critic=" ")


def test_an_empty_excel_sep_line_with_crlf_is_no_carriage_return_delimiter(tmp_path: Path) -> None:
    from flows.dumps import csv_rows

    dump = tmp_path / "sep.csv"
    dump.write_bytes(b"sep=\r\ncritic;movie_title;review_score\r\nAnn;Her;3/4\r\n")
    assert csv_rows(dump, "utf-8")[0] != ["critic;movie_title;review_score"]  # not one column split on CR


def test_an_excel_sep_line_names_the_delimiter_and_is_no_header(tmp_path: Path) -> None:
    # "sep=;" first: the import failed with "no column 'Name'; columns: sep=" (dumps QA).
    dump = tmp_path / "excel.csv"
    dump.write_bytes("sep=;\r\ncritic;movie_title;review_score;review_content\r\nAnn;Her;3/4;Fine.\r\nBo;Dune\r\n"
                     .encode("utf-8-sig"))
    result = import_file(dump, "excel", tmp_path / "data")
    assert (result.landed, result.rejected) == (1, 1)
    assert landed(result)[0]["critic_name"] == "Ann"
    reject = json.loads(result.items.with_name(result.items.name.replace(".jsonl", ".rejects.jsonl")).read_text())
    assert "line 4" in reject["reason"]  # lines of the file, the sep line counted


def test_a_bare_score_on_the_dumps_scale_does_not_give_way_to_its_fresh_or_rotten(tmp_path: Path) -> None:
    # With --scale 10, "7" is 70; it gave way to "Fresh" as if no scale were known, and the 7 was lost.
    from flows.load import load, normalize, pending_batches
    from warehouse.db import open_writer, warehouse_path

    dump = tmp_path / "rt.csv"
    dump.write_text("film_title,critic_name,review_score,review_type,body\n"
                    "Her,Ann,7,Fresh,Moving.\nHer,Bob,,Rotten,Dull.\n", encoding="utf-8")
    root = tmp_path / "data"
    import_file(dump, "rt", root, {"rating_raw": ["review_score", "review_type"]}, scale=parse_scale("10"))
    with open_writer(warehouse_path(root)) as conn:
        for batch in pending_batches(conn, root):
            load(conn, batch, normalize(conn, batch))
        rows = conn.execute("select c.name, r.rating_raw, r.score, r.is_positive from reviews r "
                            "join critics c using (critic_id) order by c.name").fetchall()
    assert rows == [("Ann", "7", 70.0, True), ("Bob", "Rotten", None, False)]


def test_a_full_disk_while_landing_names_the_landing_zone(tmp_path: Path, monkeypatch) -> None:
    # Crash QA: "error: dump.csv: No space left on device" named the file read, not the one that could not be written.
    import errno

    import flows.importer

    dump = tmp_path / "dump.csv"
    dump.write_text("id,film,critic,text\n1,Her,Ann,Good.\n", encoding="utf-8")
    real = flows.importer._import

    def fills_the_disk(path, source, root, folder, *args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(flows.importer, "_import", fills_the_disk)
    with pytest.raises(ReviewsError) as failure:
        import_file(dump, "s", tmp_path)
    folder = tmp_path / "raw" / "s"
    assert str(failure.value) == (f"{folder}: cannot write the landing zone (No space left on device); nothing was "
                                  "landed")
    monkeypatch.setattr(flows.importer, "_import", real)
    assert import_file(dump, "s", tmp_path).landed == 1
