"""`reviews import`: dataset dumps land as a run of their own source and load through the same path."""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crawlers.items import ReviewItem
from flows.cli import app
from flows.dumps import detect_encoding
from flows.errors import ReviewsError
from flows.import_columns import column_map, parse_mappings
from flows.importer import import_file
from warehouse.db import connect, warehouse_path

runner = CliRunner()
RT_HEADER = ["rotten_tomatoes_link", "critic_name", "top_critic", "publisher_name", "review_type", "review_score",
             "review_date", "review_content", "movie_title", "year"]


def rt_dump(path: Path, rows: list[list[str]], encoding: str = "utf-8", tail: str = "") -> Path:
    """A CSV shaped like the public Rotten Tomatoes critic-review dumps, plus a film title column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(RT_HEADER)
    writer.writerows(rows)
    path.write_text(buffer.getvalue() + tail, encoding=encoding, newline="")
    return path


def row(critic: str, score: str, verdict: str, body: str, outlet: str = "Paper", film: str = "Her") -> list[str]:
    return ["m/her", critic, "False", outlet, verdict, score, "2013-12-18", body, film, "2013"]


def landed(result) -> list[dict]:
    return [json.loads(line) for line in result.items.read_text(encoding="utf-8").splitlines()]


def warehouse_rows(root: Path, sql: str) -> list[tuple]:
    conn = connect(warehouse_path(root), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_usual_column_names_are_found_without_mappings() -> None:
    mapping = column_map(RT_HEADER, {}, "dump.csv")
    assert mapping["critic_name"] == ["critic_name"] and mapping["outlet"] == ["publisher_name"]
    assert mapping["rating_raw"] == ["review_score", "review_type"]  # a score, else the Fresh/Rotten verdict
    assert mapping["body"] == ["review_content"] and mapping["film_title"] == ["movie_title"]
    assert mapping["published_raw"] == ["review_date"] and mapping["film_year"] == ["year"]


def test_a_dump_without_a_film_column_is_one_line_naming_the_columns_and_the_fix() -> None:
    with pytest.raises(ReviewsError, match=r"no film column .* --map film_title=COLUMN; columns: a, critic"):
        column_map(["a", "critic", "review"], {}, "dump.csv")


def test_mappings_are_checked_against_fields_and_columns() -> None:
    assert parse_mappings(["rating_raw=score, verdict"]) == {"rating_raw": ["score", "verdict"]}
    with pytest.raises(ReviewsError, match="unknown field 'film'"):
        parse_mappings(["film=title"])
    with pytest.raises(ReviewsError, match="expected FIELD=COLUMN"):
        parse_mappings(["film_title"])
    with pytest.raises(ReviewsError, match="no column 'nope' \\(for film_title\\)"):
        column_map(RT_HEADER, {"film_title": ["nope"]}, "dump.csv")


def test_rows_land_as_raw_items_with_quoted_newlines_kept_and_hostile_text_verbatim(tmp_path: Path) -> None:
    hostile = "<script>alert(1)</script>'; DROP TABLE reviews; --"
    dump = rt_dump(tmp_path / "rt.csv", [row("Ann", "3/5", "Fresh", "Two\nlines, \"quoted\"; café"),
                                         row("Rex", "", "Rotten", hostile)], encoding="cp1252")
    result = import_file(dump, "rt", tmp_path / "data")
    items = landed(result)
    assert (result.rows, result.landed, result.rejected, result.encoding) == (2, 2, 0, "cp1252")
    assert set(items[0]) == set(ReviewItem(source="x", url="y").to_dict())
    assert items[0]["body"] == "Two\nlines, \"quoted\"; café" and items[0]["rating_raw"] == "3/5"
    assert items[1]["body"] == hostile and items[1]["rating_raw"] == "Rotten"
    assert items[0]["url"].startswith(dump.resolve().as_uri() + "#sha1:") and items[0]["syntax"] == "import"
    stats = json.loads(result.items.with_name(f"{result.run_id}.stats.json").read_text())
    assert (stats["spider"], stats["scraped"], stats["landed"], stats["finish_reason"]) == ("import", 2, 2, "finished")


def test_rows_with_the_wrong_cell_count_and_an_unclosed_quote_become_rejects_naming_their_lines(tmp_path) -> None:
    dump = rt_dump(tmp_path / "rt.csv", [row("Ann", "3/5", "Fresh", "Fine.")],
                   tail='m/her,Short,False\nm/her,Bob,False,Paper,Fresh,4/5,2013-12-18,"unclosed,Her,2013\n'
                        'm/her,Cy,False,Paper,Fresh,4/5,2013-12-18,Lost?,Her,2013\n')
    result = import_file(dump, "rt", tmp_path / "data")
    assert (result.rows, result.landed, result.rejected) == (3, 1, 2)
    rejects = [json.loads(line) for line in result.items.with_name(f"{result.run_id}.rejects.jsonl").read_text()
               .splitlines()]
    assert rejects[0]["reason"] == "rt.csv: unreadable CSV row at line 3: 3 cells where the header has 10"
    assert rejects[1]["reason"].startswith("rt.csv: unreadable CSV row at lines 4-5: ")
    assert "unclosed quote" in rejects[1]["reason"] and "Lost?" in json.dumps(rejects[1]["item"])


def test_a_row_without_an_id_column_keeps_its_key_across_imports_and_ids_are_read_from_urls(tmp_path) -> None:
    dump = tmp_path / "reviews.jsonl"
    dump.write_text(json.dumps({"critic": "Ann", "movie": "Her", "review": "Tender.", "rating": 8, "out_of": 10,
                                "imdb": "https://www.imdb.com/title/tt1798709/", "tags": ["a", "b"]}) + "\n"
                    + "[1, 2]\n{broken\n", encoding="utf-8")
    first = import_file(dump, "ds", tmp_path / "data")
    again = import_file(dump, "ds", tmp_path / "data", again=True)
    one, other = landed(first)[0], landed(again)[0]
    assert one["source_review_id"] == other["source_review_id"] and one["source_review_id"].startswith("sha1:")
    assert (one["rating_raw"], one["rating_best"], one["external_ids"]) == ("8", "10", {"imdb": "tt1798709"})
    assert (first.landed, first.rejected) == (1, 2)


def test_a_score_of_no_known_scale_gives_way_to_the_fresh_or_rotten_verdict(tmp_path: Path) -> None:
    dump = rt_dump(tmp_path / "rt.csv", [row("Ann", "7", "Fresh", "Good."), row("Bob", "n/a", "Rotten", "Bad."),
                                         row("Cy", "11/10", "Fresh", "Odd."), row("Di", "3/5", "Rotten", "Meh.")])
    data = tmp_path / "data"
    result = runner.invoke(app, ["import", str(dump), "--source", "rt", "--data-dir", str(data), "--quiet"])
    assert result.exit_code == 0, result.output
    reviews = warehouse_rows(data, "select c.name, r.rating_raw, r.score, r.is_positive, r.rating_problem "
                                   "from reviews as r join critics as c using (critic_id) order by c.name")
    assert reviews == [("Ann", "Fresh", None, True, None), ("Bob", "Rotten", None, False, None),
                       ("Cy", "11/10", None, None, "out of range: 11/10"),  # impossible: its problem is kept
                       ("Di", "3/5", 60.0, True, None)]  # a readable score wins over the verdict
    items = {item["critic_name"]: item for item in map(json.loads, next(data.glob("raw/rt/*.jsonl")).open())}
    assert (items["Ann"]["other_ratings"], items["Cy"]["other_ratings"]) == (["7"], ["Fresh"])


def test_an_edited_row_of_a_dump_without_ids_is_a_second_review_and_the_import_says_so(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = rt_dump(tmp_path / "rt.csv", [row("Ann", "3/5", "Fresh", "Moving."), row("Bob", "2/5", "Rotten", "Dull.")])
    once = runner.invoke(app, ["import", str(first), "--source", "rt", "--data-dir", str(data), "--quiet"])
    assert once.exit_code == 0 and "warning" not in once.output
    edited = rt_dump(tmp_path / "rt-2.csv", [row("Ann", "4/5", "Fresh", "Moving, and more so."),
                                             row("Bob", "2/5", "Rotten", "Dull."), row("Cy", "3/5", "Fresh", "Fine.")])
    result = runner.invoke(app, ["import", str(edited), "--source", "rt", "--data-dir", str(data), "--quiet"])
    assert result.exit_code == 0, result.output
    assert warehouse_rows(data, "select count(*) from reviews") == [(4,)]  # the documented rule: Ann twice
    assert "warning: 1 review of this import is by a critic who already had a review of that film from rt" \
        in " ".join(result.output.split())
    assert "--map source_review_id=COLUMN" in result.output


def test_import_loads_once_and_a_second_import_of_the_same_file_is_refused(tmp_path: Path) -> None:
    dump = rt_dump(tmp_path / "rt.csv", [row("Ann", "3/5", "Fresh", "Moving."), row("Bob", "11/10", "Fresh", "Odd."),
                                         row("", "2/5", "Rotten", "Nobody wrote this."),
                                         row("Cy", "", "Rotten", "Dull.", outlet="Daily")])
    data = tmp_path / "data"
    result = runner.invoke(app, ["import", str(dump), "--source", "rt", "--data-dir", str(data), "--quiet"])
    assert result.exit_code == 0, result.output
    run = warehouse_rows(data, "select scraped, loaded, duplicates, rejected, health_notes from crawl_runs")
    assert run == [(4, 3, 0, 1, "not judged: an import of a file (flows/importer.py), not a crawl")]
    assert warehouse_rows(data, "select reason from rejects") == [("no author",)]
    reviews = warehouse_rows(data, "select c.name, r.score, r.is_positive, r.rating_problem is not null "
                                   "from reviews as r join critics as c using (critic_id) order by c.name")
    assert reviews == [("Ann", 60.0, True, False), ("Bob", None, None, True), ("Cy", None, False, False)]

    again = runner.invoke(app, ["import", str(dump), "--source", "rt", "--data-dir", str(data), "--quiet"])
    assert again.exit_code == 0 and "was imported before" in again.output
    forced = runner.invoke(app, ["import", str(dump), "--source", "rt", "--data-dir", str(data), "--quiet",
                                 "--again"])
    assert forced.exit_code == 0, forced.output
    assert warehouse_rows(data, "select loaded, duplicates, rejected from crawl_runs order by run_id")[-1] == (0, 3, 1)


def test_importing_again_a_file_whose_load_did_not_happen_loads_it(tmp_path: Path) -> None:
    # A stopped load (or --no-load) left the run pending; the same import then exited 0, loading nothing (import QA).
    dump = rt_dump(tmp_path / "rt.csv", [row("Ann", "3/5", "Fresh", "Moving."), row("Cy", "", "Rotten", "Dull.")])
    data = tmp_path / "data"
    landed = runner.invoke(app, ["import", str(dump), "--source", "rt", "--data-dir", str(data), "--no-load"])
    assert landed.exit_code == 0, landed.output
    again = runner.invoke(app, ["import", str(dump), "--source", "rt", "--data-dir", str(data), "--quiet"])
    assert again.exit_code == 0, again.output
    assert "was imported before" in again.output and "not loaded yet" in again.output
    assert warehouse_rows(data, "select count(*) from reviews") == [(2,)]
    third = runner.invoke(app, ["import", str(dump), "--source", "rt", "--data-dir", str(data), "--quiet"])
    assert third.exit_code == 0 and "not loaded yet" not in third.output


def test_import_errors_are_one_line_with_exit_2(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    (tmp_path / "a.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    for args, says in (([str(tmp_path / "none.csv"), "--source", "rt"], "none.csv: no such file"),
                       ([str(tmp_path / "a.csv"), "--source", "rt"], "no critic column"),
                       ([str(tmp_path / "a.csv"), "--source", "a b/c"], "--source")):
        result = runner.invoke(app, ["import", *args, *data])
        assert result.exit_code == 2 and result.stdout == "", result.output
        (line,) = result.stderr.splitlines()
        assert line.startswith("error: ") and says in line


def test_a_json_array_of_reviews_is_read_and_its_non_objects_rejected(tmp_path: Path) -> None:
    dump = tmp_path / "export.json"
    dump.write_text(json.dumps([{"author": "Ann", "film": "Her", "text": "Tender."}, "stray", None]),
                    encoding="utf-8")
    result = import_file(dump, "export", tmp_path / "data")
    assert (result.rows, result.landed, result.rejected) == (3, 1, 2)
    assert landed(result)[0]["critic_name"] == "Ann"


def test_a_json_value_nested_too_deeply_is_a_reject_in_lines_and_one_error_in_an_array(tmp_path: Path) -> None:
    # 100,000 brackets overflowed Python's parser: a RecursionError traceback, exit 1.
    deep = "[" * 100_000 + "]" * 100_000
    lines = tmp_path / "deep.jsonl"
    lines.write_text('{"author": "Ann", "film": "Her", "text": "Tender."}\n{"film": "Her", "rating": ' + deep + "}\n",
                     encoding="utf-8")
    result = import_file(lines, "deep", tmp_path / "data")
    assert (result.rows, result.landed, result.rejected) == (2, 1, 1)
    array = tmp_path / "deep.json"
    array.write_text('[{"author": "Ann", "film": "Her", "text": "Tender."}, ' + deep + "]", encoding="utf-8")
    with pytest.raises(ReviewsError, match="nested too deeply"):
        import_file(array, "deep2", tmp_path / "data")

def test_a_bare_id_column_is_not_taken_as_the_review_key(tmp_path: Path) -> None:
    # Two exports whose rows are numbered 1..N: as keys they would overwrite each other's reviews.
    for name, films in (("jan.csv", ("Heat", "Alien")), ("feb.csv", ("Up", "Ran"))):
        (tmp_path / name).write_text("id,critic,film,review\n" + "".join(
            f"{i},Ann,{film},About {film}.\n" for i, film in enumerate(films, 1)), encoding="utf-8")
        import_file(tmp_path / name, "exports", tmp_path / "data")
    keys = {json.loads(line)["source_review_id"] for path in (tmp_path / "data" / "raw" / "exports").glob("*.jsonl")
            for line in path.read_text().splitlines()}
    assert len(keys) == 4 and all(key.startswith("sha1:") for key in keys)


def test_an_excel_export_with_semicolons_bom_crlf_and_doubled_quotes_is_read(tmp_path: Path) -> None:
    rows = "".join(f'Critic {i};Film {i};"Line one\r\nline two; ""quoted"" {i}"\r\n' for i in range(300))
    rows += 'Late;Film;"She said ""wow, just wow"" at the end"\r\n'
    dump = tmp_path / "export.csv"
    dump.write_bytes(("Kritiker;Film;Text\r\n" + rows).encode("utf-8-sig"))
    result = import_file(dump, "excel", tmp_path / "data", {"critic_name": ["Kritiker"], "film_title": ["Film"],
                                                          "body": ["Text"]})
    items = landed(result)
    assert (result.landed, result.rejected) == (301, 0)
    assert items[0]["critic_name"] == "Critic 0" and items[0]["body"] == 'Line one\r\nline two; "quoted" 0'
    assert items[-1]["body"] == 'She said "wow, just wow" at the end'


def test_a_windows_1252_dump_that_is_ascii_for_megabytes_is_still_read_as_1252(tmp_path: Path) -> None:
    dump = tmp_path / "long.csv"
    filler = "".join(f"Critic {i},Film {i},Plain text {i}\n" for i in range(120_000))
    dump.write_bytes(("critic,film,review\n" + filler + "Zoë,Amélie,Très café\n").encode("cp1252"))
    assert detect_encoding(dump) == "cp1252"


def test_a_russian_windows_1251_dump_is_read_as_1251(tmp_path: Path) -> None:
    dump = tmp_path / "ru.csv"
    dump.write_bytes(("critic,movie,review\n" + "Иван Петров,Сталкер,Отличный фильм, очень глубокий\n" * 3)
                     .encode("cp1251"))
    assert detect_encoding(dump) == "cp1251"


def test_a_wrong_or_unknown_encoding_is_one_error_not_replacement_characters(tmp_path: Path) -> None:
    dump = tmp_path / "fr.csv"
    dump.write_bytes("critic,film,review\nZoë,Amélie,Très café\n".encode("cp1252"))
    with pytest.raises(ReviewsError, match="not utf-8 text .* give its encoding with --encoding"):
        import_file(dump, "fr", tmp_path / "data", encoding="utf-8")
    for codec in ("rot13", "hex", "base64", "zlib"):  # codecs, but not of text
        with pytest.raises(ReviewsError, match="no text encoding"):
            import_file(dump, "fr", tmp_path / "data", encoding=codec)
    with pytest.raises(ReviewsError, match="cannot be read as utf-16"):
        import_file(dump, "fr", tmp_path / "data", encoding="utf-16")
    assert not list((tmp_path / "data" / "raw" / "fr").glob("*.jsonl"))


def test_a_lone_surrogate_escape_lands_spelled_out_and_the_batch_loads(tmp_path: Path) -> None:
    dump = tmp_path / "s.jsonl"
    dump.write_text('{"critic": "Ann", "film": "Her", "review": "bad \\ud800 text"}\n'
                    '{"critic": "Bob", "film": "Her", "review": "fine"}\n', encoding="utf-8")
    result = runner.invoke(app, ["import", str(dump), "--source", "s", "--data-dir", str(tmp_path / "data"), "-q"])
    assert result.exit_code == 0, result.output  # it used to leave the batch pending for good
    assert warehouse_rows(tmp_path / "data", "select scraped, loaded, rejected from crawl_runs") == [(2, 2, 0)]
    bodies = warehouse_rows(tmp_path / "data", "select body from reviews order by body")
    assert bodies == [("bad \\ud800 text",), ("fine",)]


def test_a_source_a_spider_crawls_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "state").mkdir(parents=True)
    (data / "state" / "demo.json").write_text("{}", encoding="utf-8")
    dump = rt_dump(tmp_path / "rt.csv", [row("Ann", "3/5", "Fresh", "Fine.")])
    with pytest.raises(ReviewsError, match="'demo' is crawled by a spider"):
        import_file(dump, "demo", data)


def test_sigterm_during_an_import_lands_nothing_and_exits_130(tmp_path: Path) -> None:
    dump = rt_dump(tmp_path / "big.csv", [row(f"Critic {i}", "3/5", "Fresh", "Fine. " * 40) for i in range(300_000)])
    data = tmp_path / "data"
    command = [sys.executable, "-m", "flows.cli", "import", str(dump), "--source", "big", "--data-dir", str(data),
               "--no-load", "--quiet"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while not list((data / "raw" / "big").glob("*.jsonl.part")) and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert b"stopped: nothing of this import landed" in err
    assert [p.name for p in (data / "raw" / "big").iterdir()] == [".import.lock"]


def test_a_killed_imports_part_file_is_deleted_by_the_next_import_into_that_source(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "raw" / "rt"
    folder.mkdir(parents=True)
    (folder / "20261101T000000000000Z.jsonl.part").write_text('{"half": ', encoding="utf-8")
    import_file(rt_dump(tmp_path / "rt.csv", [row("Ann", "3/5", "Fresh", "Fine.")]), "rt", tmp_path / "data")
    assert not list(folder.glob("*.part"))


def test_rows_alike_in_every_field_are_numbered_so_anonymous_twins_stay_two_reviews(tmp_path: Path) -> None:
    dump = rt_dump(tmp_path / "rt.csv", [row("Anonymous", "", "Fresh", "Loved it!"),
                                         row("Anonymous", "", "Fresh", "Loved it!"),
                                         row("Ann", "", "Fresh", "Loved it!"), row("Ann", "", "Fresh", "Loved it!"),
                                         row("Bo", "3/5", "", ""), row("Bo", "3/5", "", "")])
    data = tmp_path / "data"
    result = runner.invoke(app, ["import", str(dump), "--source", "rt", "--data-dir", str(data), "--quiet"])
    assert result.exit_code == 0, result.output
    keys = [item["source_review_id"] for item in json.loads("[" + ",".join(
        next((data / "raw" / "rt").glob("*.jsonl")).read_text(encoding="utf-8").splitlines()) + "]")]
    assert keys[1] == keys[0] + "#2"
    # A named critic's twin rows are one review listed twice, with or without text: a rating-only row listed
    # twice (a ratings export) was two ratings, its no text matching no copy (dumps QA).
    assert keys[3] == keys[2] and keys[5] == keys[4]
    # Anonymous twins are two people.
    assert warehouse_rows(data, "select loaded, duplicates from crawl_runs") == [(4, 2)]
    forced = runner.invoke(app, ["import", str(dump), "--source", "rt", "--data-dir", str(data), "--quiet",
                                 "--again"])
    assert forced.exit_code == 0, forced.output
    assert warehouse_rows(data, "select loaded, duplicates from crawl_runs order by run_id")[-1] == (0, 6)


def test_a_user_of_dumps_without_urls_imported_as_two_sources_is_two_users(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for source in ("site-a", "site-b"):
        dump = tmp_path / f"{source}.csv"
        dump.write_text("critic,audience,film,year,rating,text,date\n"
                        "Uma,user,Her,2013,9/10,A tender film that stayed with me for days.,2026-10-01\n",
                        encoding="utf-8")
        result = runner.invoke(app, ["import", str(dump), "--source", source, "--data-dir", str(data), "--quiet"])
        assert result.exit_code == 0, result.output
    # One handle on two sites is two people: two users, and her identical text on each is two reviews.
    assert warehouse_rows(data, "select count(distinct critic_id), count(*) from reviews") == [(2, 2)]
    assert warehouse_rows(data, "select reviews from critic_stats order by critic_id") == [(1,), (1,)]


def test_markup_in_a_dumps_headers_and_titles_is_printed_as_text_not_read(tmp_path: Path) -> None:
    # "[/film]" as a header, and "[/bold]" in a title shown by the summary's top films, raised Rich's
    # MarkupError (a traceback, the batch landed but not loaded); "[link=…]" printed a hidden link.
    data = tmp_path / "data"
    dump = tmp_path / "markup.csv"
    title = "[/bold] Night [link=https://evil.example]Film[/link]"
    dump.write_text("critic,audience,[/film],year,rating,text\n"
                    + "".join(f'Critic {n},critic,"{title}",2013,{n}/5,Text number {n} about the film.\n'
                              for n in range(1, 5)), encoding="utf-8")
    result = runner.invoke(app, ["import", str(dump), "--source", "mk", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert "film_title=[/film]" in result.output and "│ [/bold]" in result.output  # shown as written
    assert "[link=ht" in result.output
    assert "\x1b]8;" not in result.output  # no hidden hyperlink
    assert warehouse_rows(data, "select count(*) from reviews") == [(4,)]


def test_an_import_whose_rows_are_all_refused_is_not_judged_and_exits_0(tmp_path: Path) -> None:
    # The README: imports are not judged by the health checks. All five refused made the import exit 3 with a
    # Prefect warning about an unhealthy run, quiet or not (lineage QA).
    dump = rt_dump(tmp_path / "rt.csv", [row("", "3/5", "Fresh", f"Nobody wrote this {n}.") for n in range(5)])
    data = tmp_path / "data"
    result = runner.invoke(app, ["import", str(dump), "--source", "rt", "--data-dir", str(data), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "unhealthy" not in result.output
    assert warehouse_rows(data, "select scraped, rejected, healthy, health_notes from crawl_runs") == [
        (5, 5, None, "not judged: an import of a file (flows/importer.py), not a crawl")]
