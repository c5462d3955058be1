"""The `reviews` command line: one program, one subcommand per job.

This module holds the commands that crawl and load; flows/cli_admin.py those that read the warehouse and keep
the data folder, flows/cli_base.py what they share. User mistakes surface as one line on stderr and a non-zero
exit, never a traceback.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from flows.cli_base import (
    ConfigOption,
    DataDir,
    ProfileOption,
    Quiet,
    QuietRun,
    app,
    configured,
    configured_source,
    console,
    err_console,
    fail,
    failed,
    profile_args,
    project,
    quiet_user_errors,
    shown,
    source_name,
    source_settings,
    stdout_gone,
)
from flows.errors import ReviewsError, RunIncomplete
from flows.output import counted

SOURCE_DEFAULT = "(default: the spider's name; for a profile, its file's name)."

if TYPE_CHECKING:
    from flows.config import Config
    from flows.pipeline import PipelineResult, SourceSpec

@app.command("demo-site")
def demo_site(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1; 0 picks a free one.", min=0, max=65535)] = 8765,
    films: Annotated[int, typer.Option(help="Number of films.")] = 40,
    reviews_per_film: Annotated[int, typer.Option(help="Reviews per film.")] = 75,
    seed: Annotated[int, typer.Option(help="Seed: the same seed serves the same site.")] = 7,
    truth: Annotated[Path | None, typer.Option(help="Also write the ground truth JSONL here.")] = None,
    variant: Annotated[str, typer.Option(help="standard, or redesigned (no schema.org markup).")] = "standard",
) -> None:
    """Serve the bundled demo review site on 127.0.0.1 until Ctrl-C."""
    from flows.demosite import DemoSite, serve_in_thread, write_truth

    try:
        site = DemoSite(films=films, reviews_per_film=reviews_per_film, seed=seed, variant=variant)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if truth:
        try:
            write_truth(site, truth)
        except OSError as exc:
            raise fail(f"--truth {truth}: cannot write the ground truth there ({exc.strerror or exc})") from None
    try:
        server = serve_in_thread(site, host="127.0.0.1", port=port, keep_paths=False)
    except OSError as exc:
        raise fail(f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}; choose another --port, or 0 for a "
                   "free one") from None
    print(server.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


@app.command()
def crawl(
    spider: Annotated[str, typer.Argument(help="schema_org, feed or profile.")],
    url: Annotated[list[str] | None, typer.Option(
        "--url", help="Start URL (page, sitemap, robots.txt or feed); a profile's start_urls without it.")] = None,
    profile: ProfileOption = None,
    source: Annotated[str | None, typer.Option(help="Landing name for this source " + SOURCE_DEFAULT)] = None,
    setting: Annotated[list[str] | None, typer.Option("--set", "-s", help="Scrapy setting NAME=VALUE.")] = None,
    config: ConfigOption = None,
    data_dir: DataDir = None,
    quiet: Quiet = False,
) -> None:
    """Crawl one source into the landing zone and print the run's counts."""
    from flows.config import check_url, command_line_setting
    from flows.crawl import run_crawl

    cfg, root = project(config, data_dir, named=[source] if source else ())
    try:
        url, spider_args = profile_args(spider, profile, [check_url(u, "--url") for u in url or []])
        source = source_name(spider, profile, source)
        # A configured source keeps its delay and the rest: a crawl of it by hand was as fast as Scrapy goes.
        settings = source_settings(cfg, configured_source(cfg, source, spider)) \
            | dict(command_line_setting(s) for s in setting or [])
        result = run_crawl(spider, url, source=source, data=root, settings=settings, spider_args=spider_args,
                           show_progress=not quiet, console=err_console, resumable=True)
    except ReviewsError as exc:
        raise failed(exc) from None
    except KeyboardInterrupt:
        err_console.print("stopped: the next crawl of this source resumes where this one stopped")
        raise typer.Exit(130) from None
    stats = result.stats
    console.print(f"run {result.run_id}: {stats['pages']} pages, {stats['scraped']} reviews extracted, "
                  f"{stats['landed']} landed, {stats['repeated_in_run']} repeats, {stats['rejected']} rejected, "
                  f"{stats['errors']} errors in {result.seconds:.1f}s", highlight=False)
    console.print(f"landing: {result.items_path}", highlight=False)
    if stats.get("finish_reason") == "disk_full":
        raise fail("the crawl stopped early: the data folder's disk is nearly full (REVIEWS_MIN_FREE_MB); free "
                   "some room and the next crawl of this source resumes", code=1)


@app.command()
def extract(
    target: Annotated[str, typer.Argument(help="A saved HTML file or a URL.")],
    profile: Annotated[Path | None, typer.Option(
        "--profile", help="Read the page with this site profile instead of its schema.org markup.")] = None,
) -> None:
    """Print the reviews (and any Movie aggregate rating) found on one page, as JSON lines."""
    from crawlers.extraction import extract_page
    from crawlers.landing import json_line
    from flows.extract_page import load_page, with_profile

    try:
        html, url = load_page(target)
        page = extract_page(html, url, source="extract") if profile is None else with_profile(html, url, profile)
    except ReviewsError as exc:
        raise fail(str(exc)) from None
    for film in page.films:
        print(json_line({"type": "film", **asdict(film)}), end="")
    for review in page.reviews:
        print(json_line({"type": "review", **review.to_dict()}), end="")
    for error in page.errors:
        err_console.print(f"[yellow]warning:[/yellow] {shown(error)}", highlight=False, soft_wrap=True)
    err_console.print(f"{counted(len(page.reviews), 'review')}, {counted(len(page.films), 'film')}", highlight=False)


@app.command()
def run(
    spiders: Annotated[list[str] | None, typer.Argument(
        help="Spiders to crawl with --url, or source names from the config; none: every configured source.")] = None,
    url: Annotated[list[str] | None, typer.Option("--url", help="Start URL for the spiders.")] = None,
    profile: ProfileOption = None,
    source: Annotated[str | None, typer.Option(help="Landing name with --url " + SOURCE_DEFAULT)] = None,
    full: Annotated[bool, typer.Option("--full", help="Crawl everything again, ignoring what is loaded.")] = False,
    parallel: Annotated[int | None, typer.Option(
        help="Sites crawled at once (default: the config's \\[crawl] parallel, else 4).", min=1)] = None,
    config: ConfigOption = None,
    data_dir: DataDir = None,
    quiet: QuietRun = False,
) -> None:
    """Crawl, then normalize and load every pending landing batch, then rebuild the marts.

    Exit code 3 when a run was unhealthy (far fewer reviews or fields than the source's recent runs).
    """
    cfg, root = project(config, data_dir, named=spiders or ())
    configured(root)
    from flows.config import FULL_EVERY_DAYS, SPIDERS, check_url
    from flows.pipeline import SourceSpec
    from warehouse.db import WarehouseError, check_writable, warehouse_path

    quiet_user_errors()

    not_crawled: list[str] = []
    try:
        check_writable(warehouse_path(root))
        if url or profile:
            if not spiders:
                raise ReviewsError("give the spider to start from --url, e.g. `reviews run schema_org --url ...`"
                                   if url else "give the spider: `reviews run profile --profile FILE`")
            if unknown := [spider for spider in spiders if spider not in SPIDERS]:  # a typo: nothing runs
                raise ReviewsError(f"unknown spider {unknown[0]!r}; choose one of: {', '.join(SPIDERS)}")
            checked = [check_url(u, "--url") for u in url or []]
            if profile is not None and "profile" not in spiders:
                raise ReviewsError(f"--profile is for the profile spider, not {' or '.join(map(repr, spiders))}")
            if source is not None and len(spiders) > 1:
                raise ReviewsError("--source names one source, and two spiders under one name would mix their "
                                   "runs in its history: run each spider with a --source of its own")
            sources = []
            for spider in spiders:
                urls, spider_args = profile_args(spider, profile if spider == "profile" else None, checked)
                name = source_name(spider, profile, source)
                # A source of the config crawled from --url keeps its settings and its period of full crawls.
                known = configured_source(cfg, name, spider)
                sources.append(SourceSpec(spider, urls, name, source_settings(cfg, known), spider_args,
                                          incremental=True, full=full,
                                          full_every_days=known.full_every_days if known else FULL_EVERY_DAYS))
        else:
            chosen = [cfg.source(name) for name in spiders] if spiders else cfg.sources
            broken = [s for s in chosen if s.profile_error]
            if broken and spiders:  # named: the user wants that one crawled
                raise ReviewsError(str(broken[0].profile_error))
            # Every source: the others are crawled and loaded, and the run then fails naming these (exit 1).
            not_crawled = [f"source {s.name!r} not crawled: {s.profile_error}" for s in broken]
            chosen = [s for s in chosen if not s.profile_error]
            if spiders is None and not chosen and not broken and not quiet:
                err_console.print(f"no sources configured ({config or 'reviews.toml'}); loading pending batches only")
            sources = [SourceSpec(s.spider, s.urls, s.name, s.scrapy_settings(cfg.contact_url), s.spider_args(),
                                  incremental=True, full=full, full_every_days=s.full_every_days) for s in chosen]
    except (ReviewsError, WarehouseError) as exc:
        raise failed(exc) from None
    run_pipeline(cfg, root, sources, quiet, parallel or cfg.parallel,
                 "stopped: the next run resumes the crawl where it stopped and loads what it landed", not_crawled)


def run_pipeline(cfg: Config, root: Path, sources: list[SourceSpec], quiet: bool, parallel: int,
                  stopped: str, not_crawled: list[str] | None = None) -> None:
    """The pipeline flow as a command runs it: its temporary Prefect server, one line for an error or a stop,
    the run's summary, exit code 3 for an unhealthy run; `not_crawled` (sources left out, and why) makes the
    run end as one with a failed part, an `error:` line each and exit code 1."""
    from flows.crawl import check_room, signalled, sigterm_as_interrupt
    from flows.pipeline import outcome, pipeline
    from flows.prefect_server import api_gone, server_log, start_temporary_server
    from warehouse.db import WarehouseError

    signalled.clear()  # a stop of an earlier run in this process is not this one's
    try:
        check_room(root)  # before Prefect's server, whose database a full disk leaves half-migrated
        with sigterm_as_interrupt():  # from here a SIGTERM stops the run as Ctrl-C does, server start included
            start_temporary_server()
            result = outcome(pipeline(sources, str(root), show_progress=not quiet, mart_params=cfg.marts,
                                      health=cfg.health, parallel=parallel, return_state=True))
    except RunIncomplete as exc:
        _report_run(exc.result, quiet)
        _name_not_crawled(not_crawled)
        raise failed(exc) from None
    except (ReviewsError, WarehouseError) as exc:
        _name_not_crawled(not_crawled)
        raise failed(exc) from None
    except KeyboardInterrupt:  # stopped while crawling: the crawl kept its state
        err_console.print(stopped, soft_wrap=True)
        raise typer.Exit(130) from None
    except Exception as exc:
        if not api_gone(exc):
            raise
        _name_not_crawled(not_crawled)
        from prefect.settings import PREFECT_API_URL

        # The server this command started logs to server_log(); one PREFECT_API_URL names is someone else's.
        where = f"PREFECT_API_URL={url}" if (url := PREFECT_API_URL.value()) else f"its log: {server_log()}"
        raise failed(ReviewsError(
            f"Prefect's API server stopped answering during the run ({where}); what the run crawled and loaded "
            "before is kept (`reviews status` shows it), and the next run loads any batch left pending")) from None
    unhealthy = _report_run(result, quiet)
    if not_crawled:
        _name_not_crawled(not_crawled)
        raise typer.Exit(1)
    if unhealthy:
        raise typer.Exit(3)


def _name_not_crawled(not_crawled: list[str] | None) -> None:
    """One `error:` line for each source the run left out (fail prints it; the exit is the caller's)."""
    for line in not_crawled or []:
        fail(line)


def _report_run(result: PipelineResult, quiet: bool) -> bool:
    """Print a run's summary and its unhealthy runs; whether there were any."""
    from flows.summary import print_summary
    from warehouse.db import WarehouseError

    if not quiet:
        try:
            print_summary(Path(result.warehouse), console, result.loads)
        except OSError as exc:  # a full disk under cron's log, a reader gone: the run itself is done
            stdout_gone()
            err_console.print(f"[yellow]warning:[/yellow] the run's summary could not be written to standard "
                              f"output ({exc.strerror or exc}); `reviews status` shows the run", highlight=False,
                              soft_wrap=True)
        except WarehouseError as exc:
            # A first run whose load or marts failed (a full disk) has no marts to summarize: the summary's error
            # was a traceback that hid the run's own (resources QA).
            err_console.print(f"[yellow]warning:[/yellow] no summary of the run: {shown(str(exc))}", highlight=False,
                              soft_wrap=True)
    for bad in result.unhealthy:
        # Escaped: a note's "[rating_scale]" was read as markup and vanished; one line, as `error:` lines are, for
        # cron mail's grep (diagnosis QA).
        err_console.print(f"[yellow]unhealthy:[/yellow] {escape(str(bad['source']))} run {escape(str(bad['run_id']))}: "
                          f"{escape(str(bad['health_notes']))}", highlight=False, soft_wrap=True)
    for bad in result.elsewhere:  # another run's crawl, or `reviews crawl`'s: that source's failure, not this run's
        err_console.print(f"[yellow]warning:[/yellow] unhealthy batch of {escape(str(bad['source']))}, which this run "
                          f"loaded but did not crawl: run {escape(str(bad['run_id']))}: "
                          f"{escape(str(bad['health_notes']))}", highlight=False, soft_wrap=True)
    for note in result.held:
        err_console.print(f"[yellow]waiting:[/yellow] {escape(note)}", highlight=False, soft_wrap=True)
    return bool(result.unhealthy)


@app.command()
def serve(
    config: ConfigOption = None,
    port: Annotated[int, typer.Option(min=1, max=65535,
                                      help="Port for the local Prefect server when PREFECT_API_URL is unset.")]
    = 4200,
    data_dir: DataDir = None,
) -> None:
    """Run the config's schedules (a crawl per source, the weekly report) as Prefect deployments until Ctrl-C."""
    cfg, root = project(config, data_dir)
    configured(root, quiet=False)
    from flows.serve import serve_forever  # after configure: Prefect must read the settings it set

    try:
        code = serve_forever(cfg, root, port=port, echo=lambda line: console.print(line, highlight=False,
                                                                                  soft_wrap=True))
    except ReviewsError as exc:
        raise fail(str(exc)) from None
    if code:
        raise typer.Exit(code)


DEMO_STOPPED = "stopped: the demo did not finish; `reviews demo` runs it again"


@app.command()
def demo(data_dir: DataDir = None, quiet: QuietRun = False,
         films: Annotated[int, typer.Option(help="Films on the demo site.")] = 40,
         reviews_per_film: Annotated[int, typer.Option(help="Reviews per film.")] = 75) -> None:
    """Serve the demo site on loopback, crawl it completely, compare with its ground truth."""
    from flows.demo import run_demo
    from flows.demosite import DemoSite
    from warehouse.db import WarehouseError

    try:
        DemoSite(films=films, reviews_per_film=reviews_per_film)  # cheap: checks the sizes before anything runs
    except ValueError as exc:
        raise fail(str(exc)) from None
    # The config's data_dir too, as every other command: `reviews sql` after the demo looked for it there.
    _, root = project(None, data_dir)
    configured(root, quiet=True)  # as run_demo does: before Prefect is imported
    quiet_user_errors()
    from flows.crawl import sigterm_as_interrupt

    try:
        with sigterm_as_interrupt():  # a SIGTERM stops the demo as Ctrl-C does, with one line (it killed it silently)
            ok = run_demo(root, films=films, reviews_per_film=reviews_per_film, quiet=quiet, console=console)
    except (ReviewsError, WarehouseError) as exc:
        raise failed(exc) from None
    except KeyboardInterrupt:
        err_console.print(DEMO_STOPPED, soft_wrap=True)
        raise typer.Exit(130) from None
    if not ok:
        raise typer.Exit(1)


from flows import cli_admin, cli_import  # noqa: E402, F401  (register their commands after these, for the help's order)

if __name__ == "__main__":
    from flows.entry import run

    run(app)
