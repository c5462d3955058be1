"""The project config file, `reviews.toml`: sources, data folder, mart parameters, schedules, health.

Every command takes `--config PATH`; without it, `./reviews.toml` is used when present, and built-in
defaults otherwise. A mistake in the file is one clear error naming the file and the key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.errors import ReviewsError

DEFAULT_CONFIG = Path("reviews.toml")
SPIDERS = ("schema_org", "feed")


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

    def scrapy_settings(self, contact_url: str | None) -> dict[str, Any]:
        settings = dict(self.settings)
        if self.download_delay is not None:
            settings["DOWNLOAD_DELAY"] = self.download_delay
        if self.concurrency is not None:
            settings["CONCURRENT_REQUESTS_PER_DOMAIN"] = self.concurrency
        if self.user_agent:
            settings["USER_AGENT"] = self.user_agent
        elif contact_url:
            settings["USER_AGENT"] = f"film-reviews/0.1 (+{contact_url})"
        return settings


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
                           "to crawl with a spider directly, give --url")


def _expect(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(value, kind):
        raise ReviewsError(f"{where} must be {getattr(kind, '__name__', kind)}, not {value!r}")
    return value


def _source(raw: dict[str, Any], where: str) -> Source:
    name = _expect(raw.get("name"), str, f"{where}.name")
    spider = _expect(raw.get("spider"), str, f"{where}.spider")
    if spider not in SPIDERS:
        raise ReviewsError(f"{where}.spider must be one of {', '.join(SPIDERS)}, not {spider!r}")
    urls = raw.get("urls") or ([raw["url"]] if "url" in raw else [])
    if not urls or not all(isinstance(u, str) for u in urls):
        raise ReviewsError(f"{where}.urls must be a non-empty list of URLs")
    unknown = set(raw) - {"name", "spider", "urls", "url", "schedule", "download_delay", "concurrency",
                          "user_agent", "settings"}
    if unknown:
        raise ReviewsError(f"{where} has unknown keys: {', '.join(sorted(unknown))}")
    return Source(name, spider, list(urls), raw.get("schedule"), raw.get("download_delay"), raw.get("concurrency"),
                  raw.get("user_agent"), dict(raw.get("settings", {})))


def load_config(path: str | Path | None = None) -> Config:
    """The config at `path`, or ./reviews.toml when present, or defaults."""
    if path is None:
        if not DEFAULT_CONFIG.exists():
            return Config()
        path = DEFAULT_CONFIG
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReviewsError(f"no config file at {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ReviewsError(f"{path} is not valid TOML: {exc}") from None
    where = str(path)
    sources = [_source(s, f"{where}: sources[{i}]") for i, s in enumerate(raw.get("sources", []))]
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise ReviewsError(f"{where}: source names must be unique")
    report = raw.get("report", {})
    health = Health(**{k: v for k, v in raw.get("health", {}).items() if k in Health.__dataclass_fields__})
    marts = {k: float(v) for k, v in raw.get("marts", {}).items()}
    return Config(path=path, data_dir=raw.get("data_dir"), contact_url=raw.get("crawl", {}).get("contact_url"),
                  sources=sources, marts=marts, report_schedule=report.get("schedule", "0 7 * * 1"),
                  report_out=report.get("out", "reports"), health=health)
