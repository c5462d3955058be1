"""Process-wide settings for Prefect and the data folder, in one place.

Prefect reads its settings from the environment when it is first imported, so `configure`
must run before any module imports prefect: the CLI calls it first thing.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import warnings
from pathlib import Path

from crawlers.landing import DATA_DIR_ENV, data_dir
from flows.errors import ReviewsError


def configure(data: str | Path | None = None, quiet: bool = True) -> Path:
    """Point Prefect at a project-local home under the data folder; return the data folder."""
    root = data_dir(data).resolve()
    check_folder(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a folder on its way is a file, no permission, a read-only disk (review)
        raise ReviewsError(f"cannot make the data folder {root} ({exc.strerror or exc})") from None
    os.environ[DATA_DIR_ENV] = str(root)
    os.environ.setdefault("PREFECT_HOME", str(root / ".prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if quiet and os.environ.get("PREFECT_API_URL"):
        # A server of one's own keeps the run's log: --quiet (cron) sent it nothing. Only the terminal is quiet.
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "true")
    else:  # the temporary server is thrown away with its logs
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING" if quiet else "INFO")
        os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false" if quiet else "true")
    # The temporary API server migrates its SQLite database on first start; slow disks need time.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    # Prefect's own history (flow runs, their logs) past its retention period (90 days) is deleted by its server's
    # vacuum service, which by default only clears events: under `reviews serve` an hourly schedule added ~24 flow
    # runs a day to data/.prefect for good (ops QA).
    os.environ.setdefault("PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED", '["events", "flow_runs"]')
    loopback_without_proxy()
    matplotlib_home(root)
    # A data folder that cannot be written fails the command with its own one-line error; Prefect's warning
    # about its home there, printed on import with a source line, would only come first.
    warnings.filterwarnings("ignore", message="Failed to create the Prefect home directory", category=UserWarning)
    _check_prefect_settings()
    return root


PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def loopback_without_proxy() -> None:
    """With a proxy in the environment (crawling from behind a company's proxy), the Prefect client sent its calls
    to the temporary server on 127.0.0.1 through it, with the proxy's credentials: the run failed with a
    traceback, or waited two minutes for a server that was up (security QA). Loopback addresses are added to
    NO_PROXY and no_proxy; crawls of other hosts keep the proxy."""
    if not any(os.environ.get(name) for name in PROXY_VARIABLES):
        return
    # One list from both spellings, written to both: urllib (Scrapy's proxy middleware) reads only the lowercase one
    # when it is set, so a lowercase list of loopback alone hid the user's NO_PROXY (verification QA).
    hosts: list[str] = []
    for name in ("no_proxy", "NO_PROXY"):
        hosts += [host.strip() for host in os.environ.get(name, "").split(",") if host.strip() not in ("", *hosts)]
    if "*" in hosts:  # no proxy for any host, under both names (urllib reads "*" only alone, and the lowercase
        os.environ["no_proxy"] = os.environ["NO_PROXY"] = "*"  # name only when it is set)
        return
    merged = ",".join(hosts + [host for host in LOOPBACK if host not in hosts])
    os.environ["no_proxy"] = os.environ["NO_PROXY"] = merged


def matplotlib_home(root: Path) -> None:
    """Under cron or a service account HOME may be missing or read-only: matplotlib then warns on every report
    and rebuilds its font cache in a new temporary folder each time (seconds). Its own folder, when usable, wins."""
    if "MPLCONFIGDIR" in os.environ:
        return
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path("~/.config").expanduser()) / "matplotlib"
    try:
        config.mkdir(parents=True, exist_ok=True)
        if os.access(config, os.W_OK):
            return
    except (OSError, RuntimeError):  # RuntimeError: no HOME to expand "~" with
        pass
    os.environ["MPLCONFIGDIR"] = str(root / ".matplotlib")


def check_folder(root: Path) -> None:
    """ReviewsError for a data folder that is a file: run and demo failed with a traceback, and the read commands
    said there was no warehouse in it (config QA)."""
    if root.exists() and not root.is_dir():
        raise ReviewsError(f"the data folder {root} is a file, not a folder")
    if (file := next((folder for folder in root.parents if folder.exists() and not folder.is_dir()), None)):
        raise ReviewsError(f"the data folder {root} cannot be made: {file} is a file, not a folder")


def _check_prefect_settings() -> None:
    """A PREFECT_* value Prefect cannot read is the user's to fix: one line naming it, not the traceback Prefect
    raises on its first import (after a "Failed to initialize plugins" note, held back here)."""
    from pydantic import ValidationError

    held = io.StringIO()
    try:
        with contextlib.redirect_stderr(held):
            from prefect.settings.context import get_current_settings

            get_current_settings()
    except OSError as exc:  # its profiles.toml in a folder another user's run made (environment QA: a traceback)
        raise ReviewsError(f"Prefect cannot use its home: {exc.strerror or exc}: {exc.filename}; its folder must be "
                           "writable by everyone who runs reviews on this data folder") from None
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = str(problem["loc"][-1]) if problem["loc"] else ""
        suffix = f"_{field.upper()}"
        named = sorted(name for name in os.environ if name.startswith("PREFECT_") and name.endswith(suffix))
        where = named[0] if named else f"{exc.title}.{field}"
        raise ReviewsError(f"Prefect cannot read its setting {where} = {problem.get('input')!r}: {problem['msg']}; "
                           "fix it in the environment or in Prefect's profiles.toml") from None
    if sys.stderr is not None:  # closed (`2>&-`): AttributeError ended run, demo and import, exit 1
        sys.stderr.write(held.getvalue())
