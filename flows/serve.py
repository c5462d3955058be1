"""`reviews serve`: the config's schedules (a crawl per source, the weekly report) as Prefect deployments.

Prefect's temporary server lives only as long as one command and runs no scheduler, so schedules need a
real server. When PREFECT_API_URL is not set, `reviews serve` starts `prefect server start` itself as a
child process, with its SQLite database under the project's PREFECT_HOME, so the deployments and their
runs outlive the command and show in the UI, and `prefect deployment run` can start one.

The warehouse is one DuckDB file with one writer at a time, so every pipeline run holds the data folder's
writer lock (flows/writer.py) while it loads and rebuilds marts: scheduled crawls that fire together queue
instead of failing on DuckDB's file lock. One `reviews serve` serves a data folder at a time (an OS lock): a
second one's server would share the first's SQLite database, and stopping either paused both's schedules.
The server it starts stops when it ends, however it ends (killed with -9 too), and it ends when that server
does (a server that died left it waiting for ever).

Prefect is imported lazily, inside the functions: its settings are read once, at first import, and
`ensure_server` must be able to set PREFECT_API_URL before that happens.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from flows.entry import as_interrupt
from flows.errors import ReviewsError
from flows.prefect_server import check_api
from flows.quiet_errors import SERVED_ENV
from flows.schedules import cron_schedule, schedule_timezone
from flows.serve_runner import Announcer, run_served
from flows.serve_runs import (
    crawl_deployment,
    crawl_name,
    pause_deployments,
    retire_stale_deployments,
    serve_tag,
    settle_orphaned_runs,
    taken_names,
)
from flows.serve_server import DEFAULT_PORT, LocalServer, ensure_server
from flows.served import serve_identity

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

    from flows.config import Config

CRAWL_TAGS = ["reviews", "crawl"]
REPORT_TAGS = ["reviews", "report"]


@contextmanager
def _api_settings() -> Iterator[None]:
    """Make Prefect in this process use os.environ's PREFECT_API_URL even if Prefect was imported earlier.

    Prefect freezes its settings at first import; `ensure_server` may set the URL afterwards.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    url = os.environ.get("PREFECT_API_URL")
    if not url or PREFECT_API_URL.value() == url:
        yield
        return
    with temporary_settings(updates={PREFECT_API_URL: url}):
        yield


def build_deployments(config: Config, root: Path) -> list[RunnerDeployment]:
    """One `crawl-<source>` deployment of `pipeline` per scheduled source, plus `weekly-report`.

    Parameters are baked in (the source's spider, URLs and Scrapy settings; the data folder as an
    absolute path) so a run started from the UI or `prefect deployment run` needs no arguments. Module
    entrypoints (`flows.pipeline.pipeline`) work from any working directory since the package is installed.
    """
    from prefect.types.entrypoint import EntrypointType

    from flows.pipeline import SourceSpec, pipeline
    from flows.report.flow import weekly_report

    root = Path(root).resolve()
    where = str(config.path or "the config")
    timezone = schedule_timezone()[0]
    deployments: list[RunnerDeployment] = []
    for source in config.sources:
        if not source.schedule or source.profile_error:  # a broken profile: `project` warned, nothing to run
            continue
        spec = SourceSpec(source.spider, list(source.urls), source.name, source.scrapy_settings(config.contact_url),
                          source.spider_args(), incremental=True, full_every_days=source.full_every_days)
        deployments.append(pipeline.to_deployment(
            name=crawl_deployment(source.name),
            schedule=cron_schedule(source.schedule, f"{where}: source {source.name!r} schedule", timezone),
            parameters={"sources": [asdict(spec)], "data": str(root), "show_progress": False,
                        "mart_params": config.marts, "health": asdict(config.health), "fail_unhealthy": True},
            description=(f"Crawl source {source.name!r} ({source.spider}: {', '.join(source.urls)}), then load "
                         f"pending landing batches and rebuild the marts in {root}. Schedule from {where}."),
            tags=[*CRAWL_TAGS, f"source:{source.name}", serve_tag(root)],
            entrypoint_type=EntrypointType.MODULE_PATH,
        ))
    if config.report_schedule:
        out = Path(config.report_out).resolve()
        deployments.append(weekly_report.to_deployment(
            name="weekly-report",
            schedule=cron_schedule(config.report_schedule, f"{where}: [report] schedule", timezone),
            parameters={"data": str(root), "week": None, "out": str(out)},
            description=(f"Write the report for the last complete ISO week of the warehouse in {root} "
                         f"to {out}. Schedule from {where}."),
            tags=[*REPORT_TAGS, serve_tag(root)],
            entrypoint_type=EntrypointType.MODULE_PATH,
        ))
    return deployments


def register(config: Config, root: Path) -> list[str]:
    """Create or update the deployments on the API server; return their full names.

    Does not block: the runs are scheduled on the server, but only a process serving the deployments
    (`serve_forever`) executes them.
    """
    return _apply(build_deployments(config, root))


def _apply(deployments: list[RunnerDeployment]) -> list[str]:
    with _api_settings():
        for deployment in deployments:
            deployment.apply()
    return [deployment.full_name for deployment in deployments]


SERVE_LOCK = "serve.lock"
SERVER_GONE_GRACE_SECONDS = 15.0  # for in-flight runs to wind down once the server is gone, before we exit


@contextmanager
def _serving(root: Path) -> Iterator[None]:
    """Hold the data folder's serve lock (`<data>/locks/serve.lock`), or say which process serves it."""
    import fcntl

    path = root / "locks" / SERVE_LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            raise ReviewsError(f"another `reviews serve` serves {root}{f' (process {holder})' if holder else ''}; "
                               "stop it first (two would share one Prefect database, and stopping either paused "
                               "the other's schedules)") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield


def _watch(server: LocalServer, echo: Callable[[str], object], done: threading.Event, ended: list[int]) -> None:
    """End this process once its server has ended without being asked to: nothing can be scheduled or
    recorded any more, and Prefect's runner would wait for the dead API for ever, a stop included. A server
    that was stopped (systemd's default stop signals every process of the service) ends it with code 0, one
    that failed with 1; `ended` hears which."""
    while not done.wait(1.0):
        if server.running() or done.is_set():  # done: serve itself is stopping it
            continue
        code = server.process.returncode
        stopped = code in (0, -signal.SIGTERM, -signal.SIGINT)
        ended.append(0 if stopped else 1)
        echo(f"stopping: the Prefect server was stopped (log: {server.log_path})" if stopped else
             f"error: the Prefect server exited with code {code} (log: {server.log_path}); reviews serve stops")
        os.kill(os.getpid(), signal.SIGINT)  # the runner's own stop, while it can still end by itself
        if not done.wait(SERVER_GONE_GRACE_SECONDS):
            os._exit(ended[0])
        return


def _taken(root: Path, server: LocalServer | None, names: list[str]) -> dict[str, str]:
    """`names` another data folder serves on this server; a server in this folder's own Prefect folder is its own
    (after a lost serve.id too)."""
    if server is not None and Path(server.home).resolve().is_relative_to(Path(root).resolve()):
        return {}
    try:
        return taken_names(root, names)
    except Exception as exc:  # noqa: BLE001 - not served unchecked: another folder's serve would run these runs
        raise ReviewsError(f"cannot check which deployments the Prefect server at {os.environ['PREFECT_API_URL']} "
                           f"already serves for another data folder ({type(exc).__name__}: {exc}); not serving"
                           ) from None


def _retire(root: Path, config: Config, names: list[str], echo: Callable[[str], object]) -> None:
    # A source whose profile is broken for now keeps its deployment (a typo being fixed must not delete it), paused:
    # nothing serves it, and its runs would pile up as Late (review). Serving it again resumes it.
    broken = [crawl_name(source.name) for source in config.sources if source.schedule and source.profile_error]
    try:
        retired = retire_stale_deployments(root, names + broken)
        paused = pause_deployments(root, broken)
    except Exception as exc:  # noqa: BLE001 - bookkeeping on the server must not stop serving
        echo(f"warning: could not remove deployments the config no longer has ({type(exc).__name__}: {exc})")
        return
    if retired:
        echo("removed (no longer scheduled in the config): " + ", ".join(retired))
    if paused:
        echo("paused until its site profile is fixed: " + ", ".join(paused))


def _pause(root: Path, names: list[str], echo: Callable[[str], object]) -> None:
    """Pause this folder's deployments as serve stops: no runs pile up as Late while nobody serves them. One
    deleted meanwhile (in Prefect's UI) is no longer there to pause."""
    try:
        pause_deployments(root, names)
    except Exception as exc:  # noqa: BLE001 - bookkeeping on the server must not stop serve's stop
        echo(f"warning: could not pause the deployments ({type(exc).__name__}: {exc}); their runs may wait as Late "
             "until serve starts again")


def _settle(root: Path, echo: Callable[[str], object]) -> None:
    try:
        settled = settle_orphaned_runs(root)
    except Exception as exc:  # noqa: BLE001 - bookkeeping on the server must not stop serving or its stop
        echo(f"warning: could not check for runs left in flight ({type(exc).__name__}: {exc})")
        return
    if settled:
        echo(f"marked Crashed (left in flight by a serve that was stopped or killed): {', '.join(settled)}")


WRAPPING_UP = "still stopping: pausing the deployments and stopping the Prefect server"


def serve_forever(config: Config, root: Path, port: int = DEFAULT_PORT, echo: Callable[[str], object] = print) -> int:
    """Start a server if none is configured, register, and run scheduled and manual runs until Ctrl-C.

    On Ctrl-C serve pauses its deployments once the runner has stopped (no runs pile up while nobody serves), then the
    server we started, if any, stops. Returns the exit code: 1 when that server failed on its own.
    """
    if not config.report_schedule and not any(source.schedule and not source.profile_error
                                              for source in config.sources):
        why = ("every scheduled source has an unusable site profile (see the warnings above)"
               if any(source.schedule for source in config.sources) else "no source has a schedule")
        raise ReviewsError(f"nothing to serve: {why} in {config.path or 'the config'}, and [report] schedule "
                           "is empty")
    with _serving(Path(root)):
        if os.environ.get("PREFECT_API_URL"):
            check_api(os.environ["PREFECT_API_URL"])
        server = ensure_server(root, port)  # before anything imports Prefect, so it reads the URL at import
        done, ended = threading.Event(), []
        names: list[str] = []
        calm = threading.current_thread() is threading.main_thread()
        announcer = Announcer(echo)  # what signal handlers print
        # Until the runner takes SIGTERM over, it stops serve as Ctrl-C does, so the deployments are still paused (its
        # default action ended serve there, leaving them to pile up Late runs: stop-timing QA).
        before = signal.signal(signal.SIGTERM, as_interrupt) if calm else None
        try:
            api_url = os.environ["PREFECT_API_URL"]
            if server is not None:
                echo(f"Prefect UI: {server.ui_url}  (API {server.api_url}, log {server.log_path})")
                threading.Thread(target=_watch, args=(server, echo, done, ended), daemon=True,
                                 name="server-watch").start()
            else:
                echo(f"Prefect API: {api_url}")
            with _api_settings():
                _settle(root, echo)  # runs an earlier serve left in flight (killed with -9, say)
                deployments = build_deployments(config, root)
                zone, warning = schedule_timezone()
                echo(warning or f"schedules in time zone {zone or 'UTC'}")
                if (taken := _taken(root, server, [d.full_name for d in deployments])):
                    name, other = next(iter(taken.items()))
                    raise ReviewsError(
                        f"the Prefect server at {api_url} already has {name} for another data folder ({other}), "
                        f"and {len(taken)} such deployment{'s' if len(taken) > 1 else ''} in all: one server serves a "
                        "deployment name for one data folder (the other's serve would run this one's crawls, and "
                        "stopping either paused both). Stop that folder's serve and delete its deployments "
                        f"(`prefect deployment delete '{name}'`), or serve this folder from a server of its own")
                names = _apply(deployments)
                echo("deployments: " + ", ".join(names))
                echo(f"run one now: PREFECT_API_URL={api_url} prefect deployment run '{names[0]}'")
                _retire(root, config, names, echo)
                # The runs, in processes of their own, log failures in one line and stop when this process is gone.
                os.environ[SERVED_ENV] = serve_identity()
                run_served(deployments, announcer.say, ended)
        except KeyboardInterrupt:
            pass
        finally:
            # What is left (settling, stopping the server: up to 20 s) finishes: a Ctrl-C here skipped it with
            # click's "Aborted!" and exit 1 (review).
            # A SIGTERM too (a second one from systemd or kill): it killed serve here, leaving deployments unpaused.
            if calm:
                def still(signum: int, frame: object) -> None:
                    announcer.say(WRAPPING_UP)

                previous = signal.signal(signal.SIGINT, still)
                signal.signal(signal.SIGTERM, still)
            done.set()
            # A server that is gone records nothing (systemd's stop may end ours before its watch saw it): the next
            # serve settles the runs.
            if not ended and os.environ.get("PREFECT_API_URL") and (server is None or server.running()):
                with _api_settings():
                    _pause(root, names, echo)
                    _settle(root, echo)
            if server is not None:
                server.stop()
                if os.environ.get("PREFECT_API_URL") == server.api_url:
                    del os.environ["PREFECT_API_URL"]
            if calm:  # the `reviews` command ends now: a late stop must not turn its exit into -15
                from flows import crawl

                signal.signal(signal.SIGINT, signal.SIG_IGN if crawl.ignore_after_stop else previous)
                signal.signal(signal.SIGTERM, signal.SIG_IGN if crawl.ignore_after_stop else before)
            os.environ.pop(SERVED_ENV, None)  # this process is no served run: a later flow in it must not act as one
            announcer.close()
    return ended[0] if ended else 0
