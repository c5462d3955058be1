"""The project config file, `reviews.toml`: sources, data folder, mart parameters, schedules, health.

Every command takes `--config PATH`; without it, `./reviews.toml` is used when present, and built-in
defaults otherwise. A mistake in the file is one clear error naming the file and the key: a value of
the wrong type, an unknown key or table (a typo would otherwise be ignored silently), a source name
that cannot be a folder name, a cron expression `reviews serve` could not schedule, or a Scrapy
setting of a known type with a value Scrapy could not read. All of it is checked when the file is
read, before anything is crawled or loaded.
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawlers.landing import safe_name
from flows.config_values import (
    check_contact,
    check_known_keys,
    check_url,
    failure,
    int_value,
    number_value,
    string_value,
    table_value,
)
from flows.errors import ReviewsError
from flows.setting_types import scrapy_setting

if TYPE_CHECKING:  # parsel and lxml are imported only for a config that names a profile
    from crawlers.profiles import Profile

DEFAULT_CONFIG = Path("reviews.toml")
SPIDERS = ("schema_org", "feed", "profile")
DEFAULT_PARALLEL = 4  # sites `reviews run` crawls at once without [crawl] parallel or --parallel
# The rows of mart_params (warehouse/migrations/001_core.sql; warehouse.marts.REQUIRED_PARAMS).
MART_PARAMS = ("bayes_m", "positive_threshold", "harshness_k", "min_reviews_top")
SOURCE_KEYS = ("name", "spider", "urls", "url", "profile", "schedule", "download_delay", "concurrency",
               "user_agent", "settings", "full_every_days")
FULL_EVERY_DAYS = 28  # an incremental source is crawled in full when its last full crawl is older
NAME_CHARACTERS = "letters A-Z and a-z, digits, '_', '.' and '-'"


@dataclass
class Source:
    name: str
    spider: str
    urls: list[str]
    schedule: str | None = None  # cron expression for `reviews serve`
    download_delay: float | None = None
    concurrency: int | None = None
    user_agent: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    profile: str | None = None  # the site profile file of a `profile` source, an absolute path
    # Why its profile cannot be used (a mistake in the file): the source is not crawled, every other command
    # works, so a typo made while mending selectors after a redesign does not hide `reviews status`.
    profile_error: str | None = None
    full_every_days: int = FULL_EVERY_DAYS  # 0: only with --full

    def spider_args(self) -> dict[str, str]:
        return {"profile": self.profile} if self.profile else {}

    def scrapy_settings(self, contact_url: str | None) -> dict[str, Any]:
        settings = dict(self.settings)
        if self.download_delay is not None:
            settings["DOWNLOAD_DELAY"] = self.download_delay
        if self.concurrency is not None:
            settings["CONCURRENT_REQUESTS_PER_DOMAIN"] = self.concurrency
        if self.user_agent:
            settings["USER_AGENT"] = self.user_agent
        else:
            settings.update(contact_settings(contact_url))
        return settings


def contact_settings(contact_url: str | None) -> dict[str, str]:
    """The user agent that names `[crawl] contact_url`, as Scrapy settings (none without one)."""
    return {"USER_AGENT": f"film-reviews/0.1 (+{contact_url})"} if contact_url else {}


def command_line_setting(text: str) -> tuple[str, Any]:
    """`-s NAME=VALUE` of `reviews crawl`, checked as a config file's settings are (ReviewsError)."""
    if "=" not in text:
        raise ReviewsError(f"-s {text!r}: give a Scrapy setting as NAME=VALUE")
    name, value = text.split("=", 1)
    return name, scrapy_setting(name.strip(), value, "-s", label=f"-s {name.strip()}")


@dataclass
class Health:
    history: int = 5  # how many recent healthy runs make the baseline
    min_pages: int = 5  # runs with fewer content pages are too small to judge
    min_yield_ratio: float = 0.5  # reviews per page below this share of the recent median is unhealthy
    max_coverage_drop: float = 0.25  # a field's coverage falling by more than this (absolute) is unhealthy


@dataclass
class Config:
    path: Path | None = None
    data_dir: str | None = None
    contact_url: str | None = None
    parallel: int = DEFAULT_PARALLEL
    sources: list[Source] = field(default_factory=list)
    marts: dict[str, float] = field(default_factory=dict)
    report_schedule: str | None = "0 7 * * 1"
    report_out: str = "reports"
    health: Health = field(default_factory=Health)

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none configured"
        raise ReviewsError(f"no source named {name!r} in {self.path or 'the config'} (sources: {known}); "
                           "to crawl with a spider directly, give --url (the profile spider: --profile)")


# --- cron ---

@functools.cache
def _croniter() -> Any:
    """The croniter class Prefect parses cron schedules with (its vendored copy, what `reviews serve` uses
    through prefect.schedules.Cron), loaded from its file: importing the `prefect` package to reach it would
    cost every command about a second."""
    spec = importlib.util.find_spec("prefect")
    folder = (spec.submodule_search_locations or [None])[0] if spec else None
    path = Path(folder, "_vendor", "croniter", "croniter.py") if folder else None
    if path and path.exists():
        module_spec = importlib.util.spec_from_file_location("flows._prefect_croniter", path)
        if module_spec and module_spec.loader:
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
            return module.croniter
    from prefect._vendor.croniter import croniter  # layout changed: pay for the import

    return croniter


def valid_cron(expression: str) -> bool:
    """Whether `reviews serve` can schedule `expression` (prefect.schedules.Cron's check: croniter's, minus
    croniter's random and hashed fields 'R' and 'H', which Prefect refuses), in crontab's five fields or one
    `@` nickname: croniter also takes a sixth field, of seconds, so "0 0 7 * * 1" (meant weekly) fired monthly."""
    fields = expression.split()
    if not (len(fields) == 5 or (len(fields) == 1 and fields[0].startswith("@"))):
        return False
    return bool(_croniter().is_valid(expression)) and not any(f.casefold() in ("r", "h") for f in fields)


def _schedule(value: Any, where: str) -> str:
    """A cron expression, or "" for no schedule."""
    expected = "a cron expression such as '0 6 * * *' (minute hour day-of-month month day-of-week), or '' for none"
    if not isinstance(value, str):
        raise failure(where, expected, value)
    if value.strip() and not valid_cron(value):
        raise ReviewsError(f"{where} {value!r} is not a valid cron expression; expected {expected}")
    return value.strip()  # " " is no schedule, as "" is: serve refused it after the check had passed it


# --- tables ---

MAX_SOURCE_CHARS = 100


def check_source_name(name: str, where: str) -> str:
    """`name`, if it can name the source everywhere: the landing folders use safe_name(name), the
    warehouse rows the name itself, so the two must be the same or the source's runs go missing."""
    if len(name) > MAX_SOURCE_CHARS:
        # Its folders' and files' names hold it with a run id: past ~200 characters the file system refuses them.
        raise ReviewsError(f"{where} is {len(name)} characters long; a source name may have at most "
                           f"{MAX_SOURCE_CHARS}")
    if safe_name(name) != name:
        raise ReviewsError(f"{where} {name!r} may use only {NAME_CHARACTERS}, and may not start or end with "
                           f"'.' or '-' (it names the source's folders and its rows in the warehouse); "
                           f"for example {safe_name(name)!r}")
    return name


def _urls(raw: dict[str, Any], where: str) -> list[str]:
    if "urls" in raw and "url" in raw:
        raise ReviewsError(f"{where}: give urls (a list) or url (one), not both")
    if "url" in raw:
        urls = [string_value(raw["url"], f"{where}: url", "a URL (a string)")]
    else:
        value = raw.get("urls")
        expected = 'a list of URLs, e.g. urls = ["https://example.org/sitemap.xml"] (brackets even for one)'
        if value == []:
            raise ReviewsError(f"{where}: urls is empty; expected {expected}")
        if not isinstance(value, list):
            raise failure(f"{where}: urls", expected, value)
        urls = value
    return [check_url(url, f"{where}: urls[{i}]" if "urls" in raw else f"{where}: url") for i, url in enumerate(urls)]


def _source(raw: Any, path: str, label: str) -> Source:
    raw = table_value(raw, f"{path}: {label}", "name, spider, urls, ...")
    name = raw.get("name")
    if isinstance(name, str) and name:
        label = f"{label} ({name!r})"
    check_known_keys(raw, SOURCE_KEYS, path, label)
    where = f"{path}: {label}"
    name = check_source_name(string_value(name, f"{where}: name", f"a source name made of {NAME_CHARACTERS}"),
                             f"{where}: name")
    spider = raw.get("spider")
    if spider not in SPIDERS:
        raise failure(f"{where}: spider", f"one of {', '.join(SPIDERS)}", spider)
    profile_path = _profile_path(raw, where, spider, path)
    profile, profile_error = None, None
    if profile_path is not None:
        try:
            profile = read_profile(profile_path)
        except ReviewsError as exc:
            profile_error = str(exc)
    if "url" in raw or "urls" in raw or profile_path is None:
        urls = _urls(raw, where)
    else:  # a profile source without urls starts from its profile's (none known while the profile is broken)
        urls = list(profile.start_urls) if profile else []
    if not urls and profile_error is None:
        raise failure(f"{where}: urls", "the start URLs, or start_urls in its profile", None)
    schedule = _schedule(raw["schedule"], f"{where}: schedule") if "schedule" in raw else None
    # At most AutoThrottle's own ceiling: a stop waits for the delay of a request already in the downloader (a
    # 300 s delay kept a SIGTERM waiting almost 5 minutes: config QA).
    delay = (number_value(raw["download_delay"], f"{where}: download_delay", maximum=60, unit=" of seconds")
             if "download_delay" in raw else None)
    concurrency = (int_value(raw["concurrency"], f"{where}: concurrency", 1, " of parallel requests")
                   if "concurrency" in raw else None)
    user_agent = (string_value(raw["user_agent"], f"{where}: user_agent", "a user agent (a string)")
                  if "user_agent" in raw else None)
    settings = table_value(raw.get("settings", {}), f"{where}: settings", "Scrapy settings, NAME = value")
    settings = {key: scrapy_setting(key, value, f"{where}: settings") for key, value in settings.items()}
    # Ten years: a larger number of days overflowed the date arithmetic of the second run (config QA).
    full_every = (int_value(raw["full_every_days"], f"{where}: full_every_days", 0, " of days", maximum=3650)
                  if "full_every_days" in raw else FULL_EVERY_DAYS)
    return Source(name, spider, urls, schedule, delay, concurrency, user_agent, settings,
                  str(profile_path) if profile_path else None, profile_error, full_every)


def _profile_path(raw: dict[str, Any], where: str, spider: str, config_path: str) -> Path | None:
    """Where the site profile of a `profile` source is: relative to the config file."""
    if spider != "profile":
        if "profile" in raw:
            raise ReviewsError(f"{where}: profile is for spider = \"profile\" only, not {spider!r}")
        return None
    value = string_value(raw.get("profile"), f"{where}: profile", "the path of the site's profile file (a string)")
    return (Path(config_path).parent / Path(value).expanduser()).resolve()


def read_profile(path: str | Path) -> Profile:
    """A site profile, checked; its mistakes as one ReviewsError line naming the file and key."""
    from crawlers.profiles import ProfileError, load_profile

    try:
        return load_profile(Path(path).resolve())
    except ProfileError as exc:
        raise ReviewsError(str(exc)) from None


def _sources(raw: Any, where: str) -> list[Source]:
    if not isinstance(raw, list):
        raise failure(f"{where}: sources", "an array of tables, written [[sources]] with name, spider, urls", raw)
    sources = [_source(s, where, f"[[sources]] #{i + 1}") for i, s in enumerate(raw)]
    names = [s.name for s in sources]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ReviewsError(f"{where}: source names must be unique; repeated: {', '.join(repeated)}")
    return sources


def _marts(raw: Any, where: str) -> dict[str, float]:
    raw = table_value(raw, f"{where}: marts", f"[marts] with {', '.join(MART_PARAMS)}")
    check_known_keys(raw, MART_PARAMS, where, "[marts]")
    # min_reviews_top counts reviews: 2.5 filtered on ">= 2.5" while the report said "2 scored reviews".
    return {key: float(int_value(value, f"{where}: [marts] {key}", 1)) if key == "min_reviews_top"
            else number_value(value, f"{where}: [marts] {key}", 0, 100 if key == "positive_threshold" else None)
            for key, value in raw.items()}


def _health(raw: Any, where: str) -> Health:
    known = tuple(Health.__dataclass_fields__)
    raw = table_value(raw, f"{where}: health", f"[health] with {', '.join(known)}")
    check_known_keys(raw, known, where, "[health]")
    checks: dict[str, Callable[[Any, str], Any]] = {
        "history": lambda v, w: int_value(v, w, 1, " of runs"),
        "min_pages": lambda v, w: int_value(v, w, 0, " of pages"),
        "min_yield_ratio": lambda v, w: number_value(v, w, 0),
        "max_coverage_drop": lambda v, w: number_value(v, w, 0, 1),
    }
    return Health(**{key: checks[key](value, f"{where}: [health] {key}") for key, value in raw.items()})


TOP_LEVEL: dict[str, str] = {"data_dir": "data_dir", "crawl": "[crawl]", "marts": "[marts]", "report": "[report]",
                             "health": "[health]", "sources": "[[sources]]"}


def _top_level(raw: dict[str, Any], where: str) -> None:
    for key, value in raw.items():
        if key in TOP_LEVEL:
            continue
        shown = f"table [{key}]" if isinstance(value, dict) else f"key {key!r}"
        close = difflib.get_close_matches(key, list(TOP_LEVEL), n=1)
        hint = f"; did you mean {TOP_LEVEL[close[0]]}?" if close else ""
        raise ReviewsError(f"{where}: unknown top-level {shown} (known: {', '.join(TOP_LEVEL.values())}){hint}")


class ConfigMissing(ReviewsError):
    """The config file named is not there, or is a folder: a mistake on the command line, not in the file."""


def config_path(path: str | Path | None) -> Path | None:
    """The config file a command reads: `path`, else ./reviews.toml when present, else none (defaults)."""
    if path is None:
        return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None
    return Path(path)


def _read_table(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))  # utf-8-sig: Notepad writes a BOM
    except FileNotFoundError:
        raise ConfigMissing(f"no config file at {path}") from None
    except IsADirectoryError:
        raise ConfigMissing(f"{path} is a folder, not a config file") from None
    except UnicodeDecodeError as exc:
        raise ReviewsError(f"{path} is not UTF-8 text: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ReviewsError(f"{path} is not valid TOML: {exc}") from None


def folders_only(path: Path) -> Config:
    """What a command that only reads needs of a config with a mistake elsewhere in it: its `data_dir` and
    `[report] out`, each used when it is a string (ReviewsError when the file cannot be read as TOML at all).
    A typo made while editing a source must not lock the user out of `reviews sql`, `status` or `report`."""
    raw = _read_table(path)
    _top_level(raw, str(path))  # a misspelt `datadir` would leave ./data to be read as if it were the file's
    data_dir, report = raw.get("data_dir"), raw.get("report")
    if data_dir is not None and not isinstance(data_dir, str):
        raise ReviewsError(f"{path}: data_dir is not a folder path")  # guessing ./data could read another warehouse
    out = report.get("out") if isinstance(report, dict) else None
    return Config(path=path, data_dir=os.path.expanduser(data_dir) if isinstance(data_dir, str) else None,
                  report_out=os.path.expanduser(out) if isinstance(out, str) else "reports")


def load_config(path: str | Path | None = None) -> Config:
    """The config at `path`, or ./reviews.toml when present, or defaults."""
    path = config_path(path)
    if path is None:
        return Config()
    raw = _read_table(path)
    where = str(path)
    _top_level(raw, where)
    # "~/reviews" is the user's home, as in a shell: it made a folder named "~" (config QA).
    data_dir = (os.path.expanduser(string_value(raw["data_dir"], f"{where}: data_dir", "a folder path (a string)"))
                if "data_dir" in raw else None)
    crawl = table_value(raw.get("crawl", {}), f"{where}: crawl", "[crawl] with contact_url, parallel")
    check_known_keys(crawl, ("contact_url", "parallel"), where, "[crawl]")
    contact_url = check_contact(string_value(crawl["contact_url"], f"{where}: [crawl] contact_url", "a URL (a string)"),
                                f"{where}: [crawl] contact_url") if "contact_url" in crawl else None
    parallel = int_value(crawl["parallel"], f"{where}: [crawl] parallel", 1, " of sites crawled at once") \
        if "parallel" in crawl else DEFAULT_PARALLEL
    report = table_value(raw.get("report", {}), f"{where}: report", "[report] with schedule, out")
    check_known_keys(report, ("schedule", "out"), where, "[report]")
    schedule = _schedule(report["schedule"], f"{where}: [report] schedule") if "schedule" in report else "0 7 * * 1"
    out = os.path.expanduser(string_value(report["out"], f"{where}: [report] out", "a folder path (a string)")) \
        if "out" in report else "reports"
    return Config(path=path, data_dir=data_dir, contact_url=contact_url, parallel=parallel,
                  sources=_sources(raw.get("sources", []), where), marts=_marts(raw.get("marts", {}), where),
                  report_schedule=schedule, report_out=out, health=_health(raw.get("health", {}), where))
