"""The weekly report on small hand-made warehouses: scraped text cannot spoof the figures beside it
(bidi controls, autolinks), a failed write changes nothing, killed runs and future-dated reviews are
handled, and a past week's harshest and kindest critics do not change when later reviews arrive."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import lxml.html
import pytest
from typer.testing import CliRunner

import flows.report
from flows.cli import app
from flows.report import ReportData, parse_week, write_report
from flows.report.data import load_report_data, report_rows
from flows.report.render import md_escape, render_html, render_markdown
from tests.warehouse.conftest import Warehouse

W47 = parse_week("2026-W47")  # Monday 2026-11-16 to Sunday 2026-11-22
GENERATED = datetime(2026, 11, 25, 9, 0)
NO_CHARTS = {"scores": "", "days": "", "movers": ""}  # charts are tested elsewhere; these tests stay fast
FSI, PDI = "\u2068", "\u2069"
# Embeddings, overrides and isolates: none may come from scraped text.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def wh(conn) -> Warehouse:
    return Warehouse(conn)


def render(wh: Warehouse, week=W47) -> tuple[ReportData, str, str]:
    wh.build()
    data = load_report_data(wh.conn, week)
    return data, render_markdown(data, GENERATED), render_html(data, NO_CHARTS, GENERATED)


def set_reviews(wh: Warehouse, assignments: str, review_ids: list[str], *params) -> None:
    wh.flush()
    marks = ", ".join("?" for _ in review_ids)
    wh.conn.execute(f"update reviews set {assignments} where review_id in ({marks})", [*params, *review_ids])


# -- 1. bidi controls ----------------------------------------------------------------------------

@pytest.fixture
def bidi_week(wh):
    """W47: a critic named "\u202eMallory", a Hebrew critic and outlet, a film title and a quote with
    bidi controls. Scores make Mallory (+7.9) and the Hebrew critic (+1.4) the kindest, the film the top:
    against the others' mean, Mallory is 90 - 65 = +25 and 90 - 60 = +30, Dana 80 - 70 = +10 and 70 - 70 = 0,
    each over 2 + harshness_k 5."""
    wh.critic("mal", "\u202eMallory", "Gazette")
    wh.critic("ann", "Ann", "The Daily")
    wh.critic("dana", "דנה", "הארץ")
    wh.film("evil", "\u202eEvil Film \u2067x")
    quoted = [wh.review("evil", "mal", 90), wh.review("evil", "ann", 50), wh.review("evil", "dana", 80)]
    wh.review("quiet", "mal", 90)
    wh.review("quiet", "ann", 50)
    wh.review("quiet", "dana", 70)
    set_reviews(wh, "body = ?", quoted[:1], "Superb \u202e9.8 out of 10 \u2066and more")
    set_reviews(wh, "body = ?", quoted[1:], "סרט טוב מאוד")
    return render(wh)


def test_bidi_overrides_in_scraped_text_are_dropped_from_the_markdown(bidi_week):
    data, markdown, _ = bidi_week
    assert [row["name"] for row in data.kindest_critics] == ["\u202eMallory", "דנה"]
    # Only the isolates the escaper adds remain, each FSI closed by a PDI on its own line.
    assert not re.search("[\u202a-\u202e\u2066\u2067]", markdown)
    for line in markdown.splitlines():
        depth = 0
        for char in line:
            depth += {FSI: 1, PDI: -1}.get(char, 0)
            assert depth >= 0, line
        assert depth == 0, line
    assert "**Kindest:** Mallory, Gazette (+7.9), " in markdown
    assert "| 1 | Evil Film x (2026) |" in markdown
    assert "Superb 9.8 out of 10 and more" in markdown


def test_control_characters_in_scraped_text_are_dropped_from_both_reports(wh):
    # An ESC in a rating reached the HTML report's quotes: invalid HTML, and it recoloured a terminal.
    wh.critic("eve", "Eve\x1b[2J", "Gazette\x07")
    wh.critic("ann", "Ann", "The Daily")
    wh.critic("cy", "Cy", "The Post")
    quoted = [wh.review("evil", "eve", 90), wh.review("evil", "ann", 50), wh.review("evil", "cy", 80)]
    wh.review("quiet", "eve", 90)
    wh.review("quiet", "ann", 50)
    set_reviews(wh, "body = ?, rating_raw = ?", quoted, "Superb\x1b[31m, truly\x9b", "\x1b[31m5/5\x1b[0m")
    data, markdown, html = render(wh)
    assert data.quotes  # the quotes, with their ratings, are printed
    for text in (markdown, html):
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", text)
    assert "[31m5/5[0m" in html and "Eve[2J" in html  # the characters around them are kept, verbatim


def test_right_to_left_names_are_isolated_from_the_figures_in_the_markdown(bidi_week):
    _, markdown, _ = bidi_week
    # Name and outlet are isolated apart, so the score after them keeps its place and its sign.
    assert f"{FSI}דנה{PDI}, {FSI}הארץ{PDI} (+1.4)" in markdown
    assert f"> “{FSI}סרט טוב מאוד{PDI}” — {FSI}דנה{PDI}, {FSI}הארץ{PDI}" in markdown
    assert "## Harshest and kindest critics\n" in markdown  # left-to-right text gets no isolates


def test_bidi_overrides_are_dropped_and_scraped_text_is_in_bdi_in_the_html(bidi_week):
    _, _, html = bidi_week
    assert not BIDI_CONTROLS.search(html)
    page = lxml.html.fromstring(html)
    kindest = page.xpath("//section[@id='harsh-kind']//ol")[1]
    assert [bdi.text for bdi in kindest.xpath(".//bdi")] == ["Mallory", "Gazette", "דנה", "הארץ"]
    assert [b.text for b in kindest.xpath(".//b")] == ["+7.9", "+1.4"]
    assert page.xpath("//section[@id='top-films']//td/bdi")[0].text == "Evil Film x"
    quotes = [bdi.text for bdi in page.xpath("//section[@id='quotes']//blockquote/p/bdi")]
    assert "Superb 9.8 out of 10 and more" in quotes and "סרט טוב מאוד" in quotes


def test_bidi_overrides_are_dropped_from_chart_labels():
    from flows.report.charts import label

    assert label("\u202eEvil \u2066Film") == "Evil Film"


# -- 2. autolinks --------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "escaped"), [
    ("see http://evil.example/phish now", r"see http\://evil.example/phish now"),
    ("HTTPS://evil.example", r"HTTPS\://evil.example"),
    ("go to www.evil.example today", r"go to www\.evil.example today"),
    ("(WWW.evil.example)", r"(WWW\.evil.example)"),
    ("write to mallory@evil.example", r"write to mallory\@evil.example"),
    ("mailto:mallory", r"mailto\:mallory"),
    ("xmpp:mallory", r"xmpp\:mallory"),
])
def test_markdown_escaping_breaks_autolinks(text, escaped):
    assert md_escape(text) == escaped


def test_escaped_autolinks_read_as_the_original_text():
    markdown_it = pytest.importorskip("markdown_it")
    text = "see http://evil.example/phish, www.evil.example or mallory@evil.example; mailto:m"
    rendered = markdown_it.MarkdownIt("commonmark").render(md_escape(text))
    assert rendered == f"<p>{text}</p>\n"


def test_bare_urls_in_scraped_text_are_not_links_in_the_markdown(wh):
    wh.film("phish", "Free tickets http://evil.example/phish www.evil.example")
    wh.critic("spam", "spam@evil.example", "www.evil.example")
    for critic in ("spam", "ann", "bob"):
        for film in ("phish", "other"):
            wh.review(film, critic, 70 if critic == "spam" else 40)
    _, markdown, _ = render(wh)
    assert "Free tickets http\\://evil.example/phish www\\.evil.example (2026)" in markdown
    assert "spam\\@evil.example, www\\.evil.example" in markdown
    assert not re.search(r"(?i)https?://|(?<!\\)www\.|\w@\w", markdown)


# -- 3. writing both files or neither ------------------------------------------------------------

@pytest.fixture
def no_warehouse(monkeypatch):
    """write_report without a warehouse: every week is an empty report (the writing is under test)."""
    def empty(database: Path, week: str | None = None, today: date | None = None,
              first_written: datetime | None = None) -> ReportData:
        chosen = parse_week(week)
        return ReportData(week=chosen.label, week_start=chosen.start, week_end=chosen.end, numbers={"reviews": 0})

    monkeypatch.setattr(flows.report, "build_report_data", empty)
    monkeypatch.setattr("warehouse.marts.marts_fresh", lambda database: True)  # no marts to rebuild either


def test_a_failed_write_names_the_real_target_and_leaves_the_old_reports(no_warehouse, tmp_path):
    (tmp_path / "2026-W45.html").write_text("old html", encoding="utf-8")
    (tmp_path / "2026-W45.md").mkdir()
    with pytest.raises(IsADirectoryError) as failure:
        write_report(tmp_path / "reviews.duckdb", "2026-W45", tmp_path)
    assert failure.value.filename == str(tmp_path / "2026-W45.md")
    assert (tmp_path / "2026-W45.html").read_text(encoding="utf-8") == "old html"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["2026-W45.html", "2026-W45.md"]


def test_a_failed_rename_restores_the_report_already_replaced(no_warehouse, tmp_path, monkeypatch):
    (tmp_path / "2026-W45.html").write_text("old html", encoding="utf-8")
    (tmp_path / "2026-W45.md").write_text("old md", encoding="utf-8")
    replace = Path.replace

    def refuse_markdown(self: Path, target):
        if Path(target).name == "2026-W45.md":
            raise PermissionError(13, "Permission denied", str(self))
        return replace(self, target)

    monkeypatch.setattr(Path, "replace", refuse_markdown)
    with pytest.raises(PermissionError) as failure:
        write_report(tmp_path / "reviews.duckdb", "2026-W45", tmp_path)
    assert failure.value.filename == str(tmp_path / "2026-W45.md")
    assert (tmp_path / "2026-W45.html").read_text(encoding="utf-8") == "old html"
    assert (tmp_path / "2026-W45.md").read_text(encoding="utf-8") == "old md"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["2026-W45.html", "2026-W45.md"]


def test_report_cli_names_the_file_it_could_not_write(no_warehouse, tmp_path):
    out = tmp_path / "out"
    (out / "2026-W45.md").mkdir(parents=True)
    result = CliRunner().invoke(app, ["report", "--week", "2026-W45", "--out", str(out), "--data-dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == f"error: cannot write the report to {out / '2026-W45.md'}: Is a directory"
    assert sorted(path.name for path in out.iterdir()) == ["2026-W45.md"]


def test_a_successful_write_leaves_no_part_files(no_warehouse, tmp_path):
    paths = write_report(tmp_path / "reviews.duckdb", "2026-W45", tmp_path / "out")
    assert "No reviews this week" in paths.html.read_text(encoding="utf-8")
    # and when the week's first complete report was written, for "N of them first seen after" in later ones
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        ".2026-W45.first-written", "2026-W45.html", "2026-W45.md"]


# -- 4. killed crawl runs ------------------------------------------------------------------------

def add_run(wh: Warehouse, run_id: str, started: datetime | None, source: str = "example") -> None:
    wh.flush()
    wh.conn.execute(
        "insert into crawl_runs (run_id, source, started, scraped, loaded, updated, duplicates, rejected, loaded_at) "
        "values (?, ?, ?, 3, 1, 0, 2, 0, ?)", [run_id, source, started, GENERATED])


RUNS = {"20261117T100000123456Z": datetime(2026, 11, 17, 10, 0),
        "20261116T090000000001Z": None,  # killed: no stats, so no start time
        "20261118T080000000000Z": datetime(2026, 11, 18, 8, 0)}


@pytest.fixture
def killed_run_week(wh):
    for run_id, started in RUNS.items():
        review = wh.review("her", "ann", 70)
        set_reviews(wh, "run_id = ?", [review], run_id)
        add_run(wh, run_id, started)
    return render(wh)


def test_a_killed_run_sorts_by_the_time_its_run_id_begins_with(killed_run_week):
    data, _, _ = killed_run_week
    assert [row["run_id"] for row in data.crawl_runs] == [
        "20261116T090000000001Z", "20261117T100000123456Z", "20261118T080000000000Z"]


def test_a_killed_runs_unknown_start_shows_a_dash_not_none(killed_run_week):
    _, markdown, html = killed_run_week
    assert "None" not in html and "None" not in markdown
    rows = lxml.html.fromstring(html).xpath("//section[@id='crawls']//tbody/tr")
    assert sorted(row.xpath("string(td[2])") for row in rows) == ["2026-11-17 10:00 UTC", "2026-11-18 08:00 UTC", "—"]


def test_a_run_started_this_week_that_loaded_nothing_is_in_its_crawl_health_even_on_an_empty_week(wh):
    # Every item of a broken site rejected: no review brought its run into any week's report.
    wh.review("her", "ann", 70, published_on="2026-11-10")
    add_run(wh, "run-broken", datetime(2026, 11, 18, 9, 0), source="broken")
    wh.conn.execute("update crawl_runs set scraped = 5, loaded = 0, duplicates = 0, rejected = 5, healthy = false "
                    "where run_id = 'run-broken'")
    data, markdown, html = render(wh)
    assert data.empty
    assert [(row["source"], row["rejected"], row["week_reviews"]) for row in data.crawl_runs] == [("broken", 5, 0)]
    assert "- broken: 5 scraped, 0 loaded, 0 duplicates, 5 rejected, unhealthy" in markdown
    assert lxml.html.fromstring(html).xpath("string(//section[@id='crawls']//tbody/tr/td[1])") == "broken"


# -- 5. future-dated reviews ---------------------------------------------------------------------

def test_a_future_dated_review_brings_no_crawl_run_into_the_week(wh):
    good = wh.review("her", "ann", 70, published_on="2026-11-18")
    typo = wh.review("her", "bob", 90, published_on="2026-11-20")
    set_reviews(wh, "run_id = ?", [good], "run-good")
    set_reviews(wh, "run_id = ?, date_problem = ?", [typo], "run-typo",
                "future date: 2026-11-20 is after fetch date 2026-11-12")
    add_run(wh, "run-good", datetime(2026, 11, 18, 9, 0))
    add_run(wh, "run-typo", datetime(2026, 11, 12, 9, 0))  # W46: only its review could bring it into W47
    data, _, _ = render(wh)
    assert data.numbers["reviews"] == 1
    assert data.numbers["crawl_runs"] == 1
    assert [row["run_id"] for row in data.crawl_runs] == ["run-good"]


# -- 6. harshest and kindest critics as of the week ----------------------------------------------

def extremes(wh: Warehouse) -> list[tuple[str, str, float]]:
    wh.build()
    rows = report_rows(wh.conn, "critic_extremes", {"week_start": W47.start})
    return [(row["side"], row["critic_id"], round(row["week_harshness"], 6)) for row in rows]


def test_a_past_weeks_harshest_and_kindest_do_not_change_when_later_reviews_arrive(wh):
    for film, scores in {"f1": (90, 50, 70), "f2": (80, 40, 60)}.items():
        for critic, score in zip(("kind", "harsh", "users"), scores, strict=True):
            wh.review(film, critic, score, published_on="2026-11-18")
    wh.review("f1", "early", 70, published_on="2026-11-02")  # before the week: part of the consensus
    # Each score against the mean of the film's OTHER scores published by the end of W47; harshness_k = 5.
    # kind: f1 90 - (50 + 70 + 70) / 3, f2 80 - (40 + 60) / 2; harsh: f1 50 - (90 + 70 + 70) / 3, f2 40 - (80 + 60) / 2;
    # users: f1 70 - (90 + 50 + 70) / 3 = 0, f2 60 - (80 + 40) / 2 = 0, on neither list.
    kind = (90 - 190 / 3) + (80 - 50)
    harsh = (50 - 230 / 3) + (40 - 70)
    expected = [("harshest", "harsh", round(harsh / (2 + 5), 6)),
                ("kindest", "kind", round(kind / (2 + 5), 6))]
    assert extremes(wh) == expected
    # Later, undated and future-dated scores do not move the week's consensus.
    wh.review("f1", "late", 0, published_on="2026-12-02")
    wh.review("f2", "late", 100, published_on="2027-01-06")
    wh.review("f1", "undated", 0, published_on=None)
    typo = wh.review("f2", "typo", 0, published_on="2026-11-19")
    set_reviews(wh, "date_problem = ?", [typo], "future date: 2026-11-19 is after fetch date 2026-11-18")
    assert extremes(wh) == expected


def test_critic_stats_harshness_keeps_the_all_time_consensus(wh):
    for film, scores in {"f1": (90, 50), "f2": (80, 40)}.items():
        for critic, score in zip(("kind", "harsh"), scores, strict=True):
            wh.review(film, critic, score, published_on="2026-11-18")
    wh.review("f1", "late", 10, published_on="2026-12-02")
    wh.build()
    # kind's f1 is 90 against the others' (50 + 10) / 2 = 30 in the mart, against 50 alone in W47's report.
    assert wh.one("critic_stats", critic_id="kind")["harshness"] == pytest.approx(((90 - 30) + (80 - 40)) / (2 + 5))
    assert extremes(wh)[1] == ("kindest", "kind", round(((90 - 50) + (80 - 40)) / (2 + 5), 6))


def test_the_weeks_harshest_and_kindest_leave_each_score_out_of_its_own_consensus(wh):
    # As in critic_stats: high and low are 80 - 40 = +40 and 40 - 80 = -40 from each other on both films
    # (not +-20 from a mean that holds their own score), and high's film nobody else scored gives no offset.
    for film in ("f1", "f2"):
        wh.review(film, "high", 80, published_on="2026-11-17")
        wh.review(film, "low", 40, published_on="2026-11-19")
    wh.review("alone", "high", 10, published_on="2026-11-18")
    assert extremes(wh) == [("harshest", "low", round((-40 - 40) / (2 + 5), 6)),
                            ("kindest", "high", round((40 + 40) / (2 + 5), 6))]
    # every review is dated in W47, so the all-time figure of critic_stats is the same
    assert wh.one("critic_stats", critic_id="high")["harshness"] == pytest.approx((40 + 40) / (2 + 5))
    # with an offset on one film only, a critic is not ranked (at least 2 this week)
    wh.review("f3", "once", 30, published_on="2026-11-18")
    wh.review("f3", "other", 90, published_on="2026-11-18")
    wh.review("alone2", "once", 0, published_on="2026-11-18")
    assert [critic for _, critic, _ in extremes(wh)] == ["low", "high"]


# -- movers need a score of their own this week ----------------------------------------------------

def test_a_film_with_only_unscored_reviews_this_week_is_not_a_mover(wh):
    wh.review("her", "ann", 80, published_on="2026-11-10")
    wh.review("heat", "ann", 60, published_on="2026-11-10")
    wh.review("her", "bob", 40, published_on="2026-11-18")  # her moves on a score of its own
    wh.review("heat", "bob", is_positive=True, published_on="2026-11-18")  # heat only through the prior
    data, _, _ = render(wh)
    assert [row["film_id"] for row in data.movers] == ["her"]


def test_an_anonymous_row_of_many_people_is_neither_harshest_nor_most_active(wh):
    wh.critic("anon", name="Anonymous", name_key="anonymous", outlet="The Daily")
    for film, scores in {"f1": (10, 70, 80), "f2": (20, 60, 70), "f3": (30, 60, 70)}.items():
        for critic, score in zip(("anon", "mild", "fair"), scores, strict=True):
            wh.review(film, critic, score, published_on="2026-11-18")
    assert "anon" not in [critic for _, critic, _ in extremes(wh)]
    active = report_rows(wh.conn, "active_critics", {"week_start": W47.start})
    assert [row["critic_id"] for row in active] == ["fair", "mild"]


def test_a_week_after_a_week_without_reviews_compares_with_zero(wh):
    wh.review("her", "ann", 70, published_on="2026-11-04")  # W45; W46 has none
    wh.review("her", "bob", 60, published_on="2026-11-18")
    data, markdown, _ = render(wh)
    assert data.numbers["previous_reviews"] == 0
    assert "(+1 vs last week)" in markdown
    first, _, _ = render(wh, parse_week("2026-W45"))
    assert first.numbers["previous_reviews"] is None  # nothing before it to compare with


def test_a_week_of_only_anonymous_critics_says_so_instead_of_only_users(wh):
    wh.critic("anon", name="Anonymous", name_key="anonymous")
    wh.review("her", "anon", 70, published_on="2026-11-18")
    data, markdown, html = render(wh)
    assert data.numbers["critics"] == 0 and data.active_critics == []
    assert (data.numbers["anonymous_reviews"], data.numbers["anonymous_critic_rows"]) == (1, 1)
    assert "_Only anonymous critic reviews this week._" in markdown
    assert "Only anonymous critic reviews this week." in html and "only users" not in html


def test_an_anonymous_row_is_no_reviewer_in_the_weeks_numbers_but_its_reviews_are_counted(wh):
    # "Anonymous" on one site is many people: counting it as one critic or user made the week's
    # reviewer counts a guess; its reviews are told apart instead.
    wh.critic("anon", name="Anonymous", name_key="anonymous")
    wh.critic("guest", name="Guest", name_key="guest", audience="user")
    wh.review("her", "anon", 70, published_on="2026-11-18")
    wh.review("old", "anon", 60, published_on="2026-11-19")
    wh.review("her", "guest", 40, published_on="2026-11-18")
    wh.review("her", "ann", 80, published_on="2026-11-18")
    data, markdown, html = render(wh)
    assert (data.numbers["critics"], data.numbers["users"], data.numbers["anonymous_reviews"]) == (1, 0, 3)
    assert "plus **3** anonymous reviews" in markdown
    assert "<b>3</b> <span>anonymous reviews</span>" in html


def test_times_in_the_report_say_their_zone() -> None:
    # The footer's time was the machine's and a run's start UTC, both unlabelled (determinism QA).
    from datetime import UTC, datetime, timedelta, timezone

    from flows.report.render import day

    assert str(day(datetime(2026, 11, 28, 4, 54))) == "2026-11-28 04:54 UTC"
    assert str(day(datetime(2026, 11, 27, 21, 15, tzinfo=timezone(timedelta(hours=-8), "PST")))) == \
        "2026-11-27 21:15 PST"
    assert str(day(datetime(2026, 11, 28, 5, 15, tzinfo=UTC))) == "2026-11-28 05:15 UTC"
