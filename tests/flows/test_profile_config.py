"""A `profile` source in reviews.toml and on the command line: the site profile is read and checked before
anything is crawled, and its mistakes are one error line naming the profile file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.config import load_config
from flows.errors import ReviewsError

PROFILE = """\
start_urls = ["http://127.0.0.1:9/films/"]
reviews = "article.review"
[fields]
film_title = "h2"
body = ".text"
"""
PAGES = Path(__file__).parents[1] / "fixtures" / "pages"
LETTERBOXD_PROFILE = Path(__file__).parents[1] / "fixtures" / "profiles" / "letterboxd-member.toml"


def write_config(folder: Path, source: str) -> Path:
    path = folder / "reviews.toml"
    path.write_text('[[sources]]\nname = "site"\n' + source, encoding="utf-8")
    return path


def test_a_profile_path_is_read_relative_to_the_config_file(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "conf" / "profiles").mkdir(parents=True)
    (tmp_path / "conf" / "profiles" / "site.toml").write_text(PROFILE, encoding="utf-8")
    config = write_config(tmp_path / "conf", 'spider = "profile"\nprofile = "profiles/site.toml"\n')
    monkeypatch.chdir(tmp_path)  # elsewhere than the config's folder
    source = load_config(config).source("site")
    assert source.spider_args() == {"profile": str((tmp_path / "conf" / "profiles" / "site.toml").resolve())}


def test_a_profile_source_without_urls_starts_from_the_profiles_start_urls(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text(PROFILE, encoding="utf-8")
    source = load_config(write_config(tmp_path, 'spider = "profile"\nprofile = "site.toml"\n')).source("site")
    assert source.urls == ["http://127.0.0.1:9/films/"]


def test_urls_in_the_config_win_over_the_profiles_start_urls(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text(PROFILE, encoding="utf-8")
    config = write_config(tmp_path, 'spider = "profile"\nprofile = "site.toml"\nurls = ["http://127.0.0.1:9/a/"]\n')
    assert load_config(config).source("site").urls == ["http://127.0.0.1:9/a/"]


def test_a_profile_source_without_a_profile_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ReviewsError, match=r"\[\[sources\]\] #1 \('site'\): profile is missing"):
        load_config(write_config(tmp_path, 'spider = "profile"\nurls = ["http://127.0.0.1:9/"]\n'))


def test_a_profile_given_to_another_spider_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ReviewsError, match="profile is for spider = \"profile\" only, not 'schema_org'"):
        load_config(write_config(tmp_path, 'spider = "schema_org"\nprofile = "x.toml"\nurls = ["http://a.example/"]\n'))


def test_a_mistake_in_the_profile_marks_its_source_naming_the_profile_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text(PROFILE.replace('"h2"', '"h2["'), encoding="utf-8")
    source = load_config(write_config(tmp_path, 'spider = "profile"\nprofile = "site.toml"\n')).source("site")
    assert source.profile_error.startswith(f"{(tmp_path / 'site.toml').resolve()}: fields.film_title: bad CSS selector")


def test_a_missing_profile_file_marks_its_source(tmp_path: Path) -> None:
    source = load_config(write_config(tmp_path, 'spider = "profile"\nprofile = "gone.toml"\n')).source("site")
    assert "no such profile file" in source.profile_error


def test_a_broken_profile_leaves_reading_commands_working_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text("reviews = 3\n", encoding="utf-8")
    config = write_config(tmp_path, 'spider = "profile"\nprofile = "site.toml"\nurls = ["http://127.0.0.1:9/"]\n')
    result = CliRunner().invoke(app, ["sources", "--config", str(config), "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 0, result.output
    assert "warning: source 'site' cannot be crawled:" in result.output
    assert "site.toml: reviews: expected a selector string, got an integer" in result.output.replace("\n", "")


def test_run_naming_a_source_whose_profile_is_broken_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text("reviews = 3\n", encoding="utf-8")
    config = write_config(tmp_path, 'spider = "profile"\nprofile = "site.toml"\n')
    result = CliRunner().invoke(app, ["run", "site", "--config", str(config), "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and "reviews: expected a selector string" in line


def test_crawl_with_the_profile_spider_and_no_profile_is_one_error_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["crawl", "profile", "--url", "http://127.0.0.1:9/", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "error: the profile spider needs --profile FILE" in result.output
    assert not (tmp_path / "raw").exists()


def test_a_profile_for_another_spider_on_the_command_line_is_one_error_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["crawl", "feed", "--url", "http://127.0.0.1:9/", "--profile", "x.toml",
                                      "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "error: --profile is for the profile spider, not 'feed'" in result.output


def test_extract_with_a_profile_prints_what_the_profile_spider_would_land() -> None:
    result = CliRunner().invoke(app, ["extract", str(PAGES / "letterboxd-member-reviews-page.html"),
                                      "--profile", str(LETTERBOXD_PROFILE)])
    assert result.exit_code == 0, result.output
    reviews = [line for line in result.output.splitlines() if line.startswith('{"audience"')]
    assert len(reviews) == 12
    assert '"syntax": "profile-html"' in reviews[0]  # the fixture reads bodies with html = true
    assert "12 reviews, 0 films" in result.output


def test_extract_with_a_broken_profile_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("reviews = 3\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["extract", str(PAGES / "letterboxd-member-reviews-page.html"),
                                      "--profile", str(tmp_path / "bad.toml")])
    assert result.exit_code == 2
    assert "bad.toml: reviews: expected a selector string, got an integer" in result.output


def test_the_readmes_example_profile_loads(tmp_path: Path) -> None:
    from crawlers.profiles import load_profile

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    example = readme.split("```toml\nstart_urls")[1].split("```")[0]
    (tmp_path / "site.toml").write_text("start_urls" + example, encoding="utf-8")
    profile = load_profile(tmp_path / "site.toml")
    assert profile.rating_best == "10" and set(profile.page_fields) == {"film_title", "film_year"}


def test_the_example_configs_commented_profile_source_loads(tmp_path: Path) -> None:
    example = (Path(__file__).parents[2] / "reviews.example.toml").read_text(encoding="utf-8")
    source = example.split("# [[sources]]\n")[1]
    text = "[[sources]]\n" + "\n".join(line.removeprefix("# ") for line in source.splitlines())
    config = tmp_path / "reviews.toml"
    config.write_text(text.replace("flows/demosite/redesigned.toml",
                                   str(Path(__file__).parents[2] / "flows/demosite/redesigned.toml")), encoding="utf-8")
    assert load_config(config).source("demo-relaunched").urls == ["http://127.0.0.1:8765/films/"]


def test_a_crawl_given_a_profile_lands_under_the_profiles_name_by_default() -> None:
    from flows.cli_base import source_name

    assert source_name("profile", Path("profiles/daily-reel.toml"), None) == "daily-reel"
    assert source_name("profile", Path("profiles/daily-reel.toml"), "reel") == "reel"
    assert source_name("schema_org", None, None) == "schema_org"


def test_run_with_a_profile_and_no_spider_says_to_name_the_profile_spider(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["run", "--profile", "x.toml", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "error: give the spider: `reviews run profile --profile FILE`" in result.output


def test_a_profile_without_start_urls_and_no_url_says_both_ways_to_give_one(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text(PROFILE.replace('start_urls = ["http://127.0.0.1:9/films/"]\n', ""),
                                        encoding="utf-8")
    result = CliRunner().invoke(app, ["crawl", "profile", "--profile", str(tmp_path / "site.toml"),
                                      "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert f"give --url, or start_urls in the profile {tmp_path / 'site.toml'}" in result.output.replace("\n", "")


def test_sources_names_a_profile_sources_profile_file(tmp_path: Path) -> None:
    import json

    (tmp_path / "site.toml").write_text(PROFILE, encoding="utf-8")
    config = write_config(tmp_path, 'spider = "profile"\nprofile = "site.toml"\n')
    args = ["sources", "--config", str(config), "--data-dir", str(tmp_path / "data"), "--json"]
    listed = json.loads(CliRunner().invoke(app, args).stdout)
    assert [(s["spider"], s["profile"]) for s in listed] == [("profile", str((tmp_path / "site.toml").resolve()))]
    table = CliRunner().invoke(app, args[:-1]).stdout
    assert "site.toml" in table.replace("\n", "").replace(" ", "").replace("│", "")


def test_run_of_every_source_crawls_the_others_and_fails_naming_the_one_with_a_broken_profile(tmp_path, small_demo):
    (tmp_path / "site.toml").write_text("reviews = 3\n", encoding="utf-8")
    config = tmp_path / "reviews.toml"
    config.write_text('[[sources]]\nname = "site"\nspider = "profile"\nprofile = "site.toml"\n\n'
                      f'[[sources]]\nname = "feed"\nspider = "feed"\nurls = ["{small_demo.url}feed.xml"]\n',
                      encoding="utf-8")
    result = CliRunner().invoke(app, ["run", "--config", str(config), "--data-dir", str(tmp_path / "data"), "--quiet"])
    assert result.exit_code == 1, result.output
    assert "error: source 'site' not crawled:" in result.output
    from tests.flows.truth import query

    assert query(tmp_path / "data", "select source, loaded from crawl_runs") == [("feed", 50)]
