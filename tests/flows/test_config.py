"""reviews.toml: every mistake is one ReviewsError naming the file, the key and what was expected,
raised when the file is read, before anything is crawled or loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.config import MART_PARAMS, load_config, valid_cron
from flows.errors import ReviewsError
from warehouse.db import connect, migrate
from warehouse.marts import REQUIRED_PARAMS

EXAMPLE = Path(__file__).resolve().parents[2] / "reviews.example.toml"
SOURCE = '[[sources]]\nname = "s"\nspider = "feed"\nurls = ["http://127.0.0.1:8931/feed.xml"]\n'


def config_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "reviews.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ReviewsError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message  # names the file
    return message


def test_the_example_config_loads() -> None:
    config = load_config(EXAMPLE)
    assert [s.name for s in config.sources] == ["demo", "demo-feed"]
    assert config.sources[0].download_delay == 0.25 and config.sources[0].concurrency == 4
    assert config.marts == {"bayes_m": 10.0, "positive_threshold": 60.0, "harshness_k": 5.0, "min_reviews_top": 3.0}
    assert config.health.history == 5 and config.report_schedule == "0 7 * * 1"


def test_a_string_for_a_mart_parameter_names_the_key_and_expects_a_number(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[marts]\nbayes_m = "ten"\n')
    assert message.endswith("[marts] bayes_m must be a number >= 0, not 'ten'")


def test_source_settings_that_are_not_a_table_are_an_error(tmp_path: Path) -> None:
    message = config_error(tmp_path, SOURCE + 'settings = "x"\n')
    assert "[[sources]] #1 ('s'): settings must be a table" in message and message.endswith("not 'x'")


@pytest.mark.parametrize(("text", "key"), [('sources = "x"', "sources"), ('crawl = "x"', "crawl"),
                                           ('report = "x"', "report")])
def test_a_string_where_a_table_belongs_is_an_error(tmp_path: Path, text: str, key: str) -> None:
    message = config_error(tmp_path, text + "\n")
    assert f": {key} must be a" in message and "table" in message and message.endswith("not 'x'")


def test_a_data_dir_that_is_not_a_string_is_an_error(tmp_path: Path) -> None:
    assert config_error(tmp_path, "data_dir = 5\n").endswith("data_dir must be a folder path (a string), not 5")


def test_a_config_mistake_is_one_error_line_and_exit_2_on_status(tmp_path: Path) -> None:
    config = tmp_path / "reviews.toml"
    config.write_text("data_dir = 5\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["status", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "data_dir" in result.stderr


def test_an_error_naming_a_config_table_prints_its_brackets(tmp_path: Path) -> None:
    config = tmp_path / "reviews.toml"
    config.write_text("[marts]\nbayes = 20\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["sources", "--config", str(config)])
    assert result.exit_code == 2
    assert "unknown key 'bayes' in [marts]" in result.stderr


def test_urls_given_as_one_string_is_an_error_not_a_list_of_characters(tmp_path: Path) -> None:
    message = config_error(tmp_path, SOURCE.replace('["http://127.0.0.1:8931/feed.xml"]',
                                                    '"http://127.0.0.1:8931/feed.xml"'))
    assert "urls must be a list of URLs" in message and "brackets even for one" in message


def test_an_unknown_top_level_key_is_an_error_listing_the_known_ones(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'dat_dir = "elsewhere"\n')
    assert "unknown top-level key 'dat_dir' (known: data_dir, [crawl], [marts], [report], [health], [[sources]])" \
        in message and message.endswith("did you mean data_dir?")


def test_an_unknown_table_is_an_error(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[helth]\nmin_pages = 1\n")
    assert "unknown top-level table [helth]" in message and message.endswith("did you mean [health]?")


def test_an_unknown_key_in_a_known_table_is_an_error_listing_the_known_ones(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[health]\nmin_page = 50\n")
    assert message.endswith("unknown key 'min_page' in [health] (known: history, min_pages, min_yield_ratio, "
                            "max_coverage_drop); did you mean 'min_pages'?")


def test_an_unknown_key_in_a_source_is_an_error(tmp_path: Path) -> None:
    assert "unknown key 'shedule' in [[sources]] #1 ('s')" in config_error(tmp_path, SOURCE + 'shedule = "0 6 * * *"\n')


def test_a_download_delay_that_is_not_a_number_is_an_error(tmp_path: Path) -> None:
    message = config_error(tmp_path, SOURCE + 'download_delay = "fast"\n')
    assert message.endswith("download_delay must be a number of seconds between 0 and 60, not 'fast'")


def test_full_every_days_defaults_to_four_weeks_and_takes_a_whole_number_of_days(tmp_path: Path) -> None:
    path = tmp_path / "reviews.toml"
    path.write_text(SOURCE + "full_every_days = 0\n" + SOURCE.replace('"s"', '"t"'), encoding="utf-8")
    assert [s.full_every_days for s in load_config(path).sources] == [0, 28]
    assert "full_every_days must be a whole number of days between 0 and 3650, not -1" in config_error(
        tmp_path, SOURCE + "full_every_days = -1\n")


def test_a_concurrency_that_is_not_a_whole_number_is_an_error(tmp_path: Path) -> None:
    assert "concurrency must be a whole number of parallel requests >= 1, not '4'" in config_error(
        tmp_path, SOURCE + 'concurrency = "4"\n')


@pytest.mark.parametrize(("setting", "expected"), [('DOWNLOAD_DELAY = "fast"', "a number >= 0"),
                                                   ("RETRY_TIMES = 1.5", "a whole number >= 0"),
                                                   ('ROBOTSTXT_OBEY = "yes"', "true or false"),
                                                   ("HTTPCACHE_ENABLED = [true]", "a string, number or boolean"),
                                                   ('REVIEWS_MAX_BARREN_DEPTH = "deep"', "a whole number >= 0"),
                                                   ('REVIEWS_CANARY_PAGES = "x"', "a whole number >= 0"),
                                                   ("REVIEWS_RETRY_AFTER_MAX = -1", "a number >= 0"),
                                                   ('REVIEWS_HOST_DOWN_AFTER = "soon"', "a number >= 0"),
                                                   ('LOG_LEVEL = "verbose"', "CRITICAL or ERROR or WARNING or INFO "
                                                                               "or DEBUG"),
                                                   ("CONCURRENT_REQUESTS_PER_DOMAIN = 0", "a whole number >= 1")])
def test_a_scrapy_setting_scrapy_cannot_read_is_an_error(tmp_path: Path, setting: str, expected: str) -> None:
    message = config_error(tmp_path, SOURCE + f"[sources.settings]\n{setting}\n")
    assert f"settings.{setting.split()[0]} must be {expected}" in message


def test_every_number_or_switch_setting_of_ours_has_its_type_checked() -> None:
    # REVIEWS_CANARY_PAGES = "x" passed the check, and every run then read as "site down" (README QA).
    import crawlers.settings as ours
    from flows.setting_types import BOOL_SETTINGS, FLOAT_SETTINGS, INT_SETTINGS

    typed = {name for name in dir(ours) if name.startswith("REVIEWS_")
             and isinstance(getattr(ours, name), int | float | bool)}
    assert typed - INT_SETTINGS - FLOAT_SETTINGS - BOOL_SETTINGS == set()


@pytest.mark.parametrize(("setting", "hint"), [("DOWNLOAD_DELAYY = 1", "did you mean DOWNLOAD_DELAY?"),
                                             ("download_delay = 1", "did you mean DOWNLOAD_DELAY?"),
                                             ("REVIEWS_MAX_BARREN_DEPT = 3", "did you mean REVIEWS_MAX_BARREN_DEPTH?"),
                                             ("NO_SUCH_THING = 1", "(see Scrapy's settings documentation)")])
def test_a_setting_name_no_crawl_reads_is_an_error_with_the_closest_known_name(tmp_path: Path, setting: str,
                                                                               hint: str) -> None:
    # Scrapy ignores a name it does not know: the site would be crawled without the delay meant for it.
    message = config_error(tmp_path, SOURCE + f"[sources.settings]\n{setting}\n")
    assert f"unknown Scrapy setting '{setting.split()[0]}', which the crawl would ignore" in message
    assert message.endswith(hint)


def test_a_command_line_setting_name_no_crawl_reads_is_one_error_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["crawl", "schema_org", "--url", "http://127.0.0.1:9/", "-s",
                                      "DOWNLOAD_DELAYY=1", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: -s: unknown Scrapy setting 'DOWNLOAD_DELAYY', which the crawl would "
                                     "ignore; did you mean DOWNLOAD_DELAY?")



def test_the_contact_url_as_a_setting_is_refused_since_only_the_environment_or_the_config_reaches_the_user_agent(
        tmp_path: Path) -> None:
    # Accepted and ignored: sites were told to write to the project instead of the operator (politeness QA 3).
    message = config_error(tmp_path, SOURCE + '[sources.settings]\nREVIEWS_CONTACT_URL = "https://me.example/"\n')
    assert "REVIEWS_CONTACT_URL is read from the environment, not as a setting" in message
    assert "[crawl] contact_url" in message
    result = CliRunner().invoke(app, ["crawl", "schema_org", "--url", "http://127.0.0.1:9/", "-s",
                                      "REVIEWS_CONTACT_URL=https://me.example/", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and result.stderr.startswith("error: -s: REVIEWS_CONTACT_URL is read from")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["crawl", "run"])
def test_a_start_url_that_is_not_a_url_is_one_error_line_not_an_empty_crawl(tmp_path: Path, command: str) -> None:
    # Scrapy only logged "Missing scheme in request url" and the crawl ended with 0 pages and exit 0.
    result = CliRunner().invoke(app, [command, "schema_org", "--url", "notaurl", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --url must be an http://, https:// or file:// URL, not 'notaurl'"
    assert not (tmp_path / "raw").exists()


def test_a_start_url_with_a_space_in_it_is_one_error_line(tmp_path: Path) -> None:
    # Config QA: "http://host/ sitemap.xml" asked for /%20sitemap.xml, got a 404, and the run said 0 errors.
    result = CliRunner().invoke(app, ["crawl", "schema_org", "--url", "http://127.0.0.1:9/ sitemap.xml",
                                      "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: --url 'http://127.0.0.1:9/ sitemap.xml' holds a space, which no address "
                                     "does: write it as %20 if it is meant")


@pytest.mark.parametrize("name", ["REVIEWS_DATA_DIR", "JOBDIR", "LOG_FILE", "REVIEWS_JOB_STATE"])
def test_a_setting_the_run_sets_for_each_crawl_is_refused(tmp_path: Path, name: str) -> None:
    # Config QA: -s REVIEWS_DATA_DIR=/elsewhere put the landing files out of the run's sight, and it failed.
    message = config_error(tmp_path, SOURCE + f'[sources.settings]\n{name} = "/elsewhere"\n')
    assert f"{name} is set by the run for each crawl (from the data folder), not here" in message


def test_scrapy_settings_scrapy_can_read_are_kept_as_written(tmp_path: Path) -> None:
    path = tmp_path / "reviews.toml"
    path.write_text(SOURCE + '[sources.settings]\nDOWNLOAD_DELAY = "0.5"\nRETRY_TIMES = 2\nROBOTSTXT_OBEY = false\n'
                    'LOG_LEVEL = "DEBUG"\n', encoding="utf-8")
    assert load_config(path).sources[0].settings == {"DOWNLOAD_DELAY": "0.5", "RETRY_TIMES": 2,
                                                     "ROBOTSTXT_OBEY": False, "LOG_LEVEL": "DEBUG"}


def test_an_invalid_source_cron_is_an_error_when_the_config_is_read(tmp_path: Path) -> None:
    message = config_error(tmp_path, SOURCE + 'schedule = "61 * * * *"\n')
    assert "[[sources]] #1 ('s'): schedule '61 * * * *' is not a valid cron expression" in message


def test_an_invalid_report_cron_is_an_error_when_the_config_is_read(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[report]\nschedule = "every monday"\n')
    assert "[report] schedule 'every monday' is not a valid cron expression" in message


def test_an_empty_schedule_means_no_schedule(tmp_path: Path) -> None:
    path = tmp_path / "reviews.toml"
    path.write_text('[report]\nschedule = ""\n' + SOURCE + 'schedule = ""\n', encoding="utf-8")
    config = load_config(path)
    assert config.report_schedule == "" and config.sources[0].schedule == ""


@pytest.mark.parametrize("expression", ["0 6 * * *", "*/5 * * * *", "0 7 * * mon", "@daily", "0 0 * * * *",
                                        "61 * * * *", "0 24 * * *", "H * * * *", "R * * * *", "0 7 * * 1 2020",
                                        "every monday", "* * *", "0 0 7 * * 1"])
def test_the_config_accepts_exactly_the_crons_reviews_serve_can_schedule(expression: str) -> None:
    from flows.schedules import cron_schedule

    try:
        cron_schedule(expression, "x", None)
        served = True
    except ReviewsError:
        served = False
    assert valid_cron(expression) == served
    # Six fields read the sixth as seconds: "0 0 7 * * 1", meant weekly, fired monthly (from the serve QA).
    assert not valid_cron("0 0 7 * * 1") and not valid_cron("0 0 * * * *")


def test_an_unknown_mart_parameter_is_an_error_when_the_config_is_read(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[marts]\nbayes = 20\n")
    assert message.endswith("unknown key 'bayes' in [marts] (known: bayes_m, positive_threshold, harshness_k, "
                            "min_reviews_top); did you mean 'bayes_m'?")



@pytest.mark.parametrize("value", ["2.5", "0", "-1"])
def test_min_reviews_top_must_be_a_whole_number_of_reviews(tmp_path: Path, value: str) -> None:
    # 2.5 was accepted: the report filtered on >= 2.5 and said "No film had 2 scored reviews".
    message = config_error(tmp_path, f"[marts]\nmin_reviews_top = {value}\n")
    assert "[marts] min_reviews_top" in message and "a whole number >= 1" in message

def test_the_mart_parameters_the_config_knows_are_the_warehouse_ones(tmp_path: Path) -> None:
    conn = connect(tmp_path / "w.duckdb")
    try:
        migrate(conn)
        stored = {row[0] for row in conn.execute("select name from mart_params").fetchall()}
    finally:
        conn.close()
    assert set(MART_PARAMS) == stored == set(REQUIRED_PARAMS)


def test_a_source_name_outside_the_folder_safe_characters_is_an_error_saying_which_are_allowed(
        tmp_path: Path) -> None:
    message = config_error(tmp_path, SOURCE.replace('name = "s"', 'name = "lb feed é"'))
    assert "name 'lb feed é' may use only letters A-Z and a-z, digits, '_', '.' and '-'" in message
    assert message.endswith("for example 'lb-feed'")


def test_a_source_name_too_long_for_file_names_is_one_error_line(tmp_path: Path) -> None:
    # `reviews import --source <300 characters>` died with "OSError: File name too long" once raw/ existed.
    from typer.testing import CliRunner

    from flows.cli import app

    dump = tmp_path / "d.csv"
    dump.write_text("critic,film,text\nAnn,Her,Tender.\n", encoding="utf-8")
    done = CliRunner().invoke(app, ["import", str(dump), "--source", "a" * 300, "--data-dir", str(tmp_path / "d")])
    assert done.exit_code == 2
    assert done.stderr.strip() == "error: --source is 300 characters long; a source name may have at most 100"

def test_a_per_site_concurrency_of_0_on_the_command_line_is_an_error() -> None:
    # Scrapy would send that site nothing, and the crawl would wait for ever, even after a SIGTERM.
    from flows.config import command_line_setting

    with pytest.raises(ReviewsError, match="CONCURRENT_REQUESTS_PER_DOMAIN must be a whole number >= 1"):
        command_line_setting("CONCURRENT_REQUESTS_PER_DOMAIN=0")


def test_a_config_saved_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "reviews.toml"
    path.write_text("\ufeff" + SOURCE, encoding="utf-8")
    assert [s.name for s in load_config(path).sources] == ["s"]


def test_a_tilde_in_data_dir_or_the_report_folder_is_the_users_home(tmp_path: Path, monkeypatch) -> None:
    # Config QA: data_dir = "~/x" made a folder named "~" in the current one, and the report printed a path into
    # the home folder where its files were not.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = tmp_path / "reviews.toml"
    path.write_text('data_dir = "~/reviews-data"\n[report]\nout = "~/reports"\n', encoding="utf-8")
    config = load_config(path)
    assert (config.data_dir, config.report_out) == (str(tmp_path / "home" / "reviews-data"),
                                                    str(tmp_path / "home" / "reports"))
    from flows.cli_base import project

    monkeypatch.delenv("REVIEWS_DATA_DIR", raising=False)
    assert project(None, Path("~/given"))[1] == tmp_path / "home" / "given"


def test_the_demo_writes_to_the_configs_data_dir_as_every_other_command_reads_it(tmp_path: Path, monkeypatch) -> None:
    # Config QA: the demo wrote ./data, and `reviews sql` then found no warehouse in the config's data_dir.
    import flows.demo

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REVIEWS_DATA_DIR", raising=False)
    (tmp_path / "reviews.toml").write_text('data_dir = "wd"\n', encoding="utf-8")
    roots: list[Path] = []
    monkeypatch.setattr(flows.demo, "run_demo", lambda root, **kwargs: roots.append(Path(root)) or True)
    monkeypatch.setattr("flows.cli.configured", lambda *args, **kwargs: None)  # no Prefect settings for this process
    result = CliRunner().invoke(app, ["demo", "--films", "4", "--reviews-per-film", "10", "--quiet"])
    assert result.exit_code == 0, result.output
    assert roots == [tmp_path / "wd"]


@pytest.mark.parametrize(("line", "expected"), [
    ("full_every_days = 10000000000", "full_every_days must be a whole number of days between 0 and 3650"),
    ("download_delay = 300", "download_delay must be a number of seconds between 0 and 60"),
])
def test_a_number_past_its_ceiling_is_an_error_when_the_config_is_read(tmp_path: Path, line: str, expected: str):
    # Config QA: a huge full_every_days overflowed the second run's date arithmetic (a traceback); a 300 s delay
    # kept a stop waiting almost five minutes.
    assert expected in config_error(tmp_path, SOURCE + line + "\n")


def test_a_blank_schedule_is_no_schedule(tmp_path: Path) -> None:
    # Config QA: " " passed the check, then reviews serve refused it as no cron expression.
    path = tmp_path / "reviews.toml"
    path.write_text(SOURCE + 'schedule = " "\n[report]\nschedule = " "\n', encoding="utf-8")
    config = load_config(path)
    assert (config.sources[0].schedule, config.report_schedule) == ("", "")


@pytest.mark.parametrize(("contact", "ok"), [("https://example.org/about", True), ("ops@example.org", True),
                                             ("mailto:ops@example.org", True), ("bob", False),
                                             ("example.org", False), ("https://", False)])
def test_contact_url_is_a_url_or_an_email_address(tmp_path: Path, contact: str, ok: bool) -> None:
    # Config QA: "bob" was taken, and sent to every site as the way to reach the operator.
    path = tmp_path / "reviews.toml"
    path.write_text(f'[crawl]\ncontact_url = "{contact}"\n', encoding="utf-8")
    if ok:
        assert load_config(path).contact_url == contact
    else:
        with pytest.raises(ReviewsError, match="contact_url must be an http:// or https:// URL, or an email address"):
            load_config(path)


@pytest.mark.parametrize("name", ["ITEM_PIPELINES", "DOWNLOADER_MIDDLEWARES", "EXTENSIONS"])
def test_a_setting_that_would_replace_the_crawlers_components_is_refused(tmp_path: Path, name: str) -> None:
    # Config QA: -s ITEM_PIPELINES={} crawled 40 reviews, landed none, and exited 0.
    result = CliRunner().invoke(app, ["crawl", "schema_org", "--url", "http://127.0.0.1:9/", "-s", f"{name}={{}}",
                                      "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"error: -s: {name} would replace the crawler's own components "
                                     "(crawlers/settings.py), without which nothing lands")
