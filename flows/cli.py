"""The `reviews` command line: one program, one subcommand per job.

User mistakes surface as one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from flows.errors import CrawlFailed, ReviewsError, RunIncomplete, RunStopped

if TYPE_CHECKING:
    from flows.config import Config
    from flows.pipeline import PipelineResult

app = typer.Typer(help="Collect public film reviews, normalize them, and query them with SQL.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
console = Console()
err_console = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", help="Data folder (default $REVIEWS_DATA_DIR, else the config's data_dir, else ./data).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")]
ConfigOption = Annotated[Path | None, typer.Option("--config", help="Config file (default ./reviews.toml if present).")]


def fail(message: str, code: int = 2) -> typer.Exit:
    # Escaped: messages quote config tables ("[marts]") and paths, which Rich would read as markup and drop.
    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def failed(exc: Exception) -> typer.Exit:
    """`fail` for a caught error: exit code 2 for the user's mistakes, 1 for a crawl whose child failed or a
    run that went on past failed parts, 130 for a run stopped while it loaded."""
    code = 130 if isinstance(exc, RunStopped) else 1 if isinstance(exc, CrawlFailed | RunIncomplete) else 2
    return fail(str(exc), code)


def quiet_user_errors() -> None:
    """Keep Prefect from logging a traceback for an error this command prints as one `error:` line
    (flows.quiet_errors); call after flows.settings.configure."""
    from flows.quiet_errors import install

    install()


def project(config: Path | None, data_dir: Path | None) -> tuple[Config, Path]:
    """The config (./reviews.toml or --config) and the data folder: --data-dir, then REVIEWS_DATA_DIR, then
    the config's data_dir, then ./data."""
    from crawlers.landing import DATA_DIR_ENV
    from flows.config import load_config

    try:
        cfg = load_config(config)
    except ReviewsError as exc:
        raise fail(str(exc)) from None
    return cfg, Path(data_dir or os.environ.get(DATA_DIR_ENV) or cfg.data_dir or "data").resolve()


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
        write_truth(site, truth)
    try:
        server = serve_in_thread(site, host="127.0.0.1", port=port)
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
    spider: Annotated[str, typer.Argument(help="schema_org or feed.")],
    url: Annotated[list[str], typer.Option("--url", help="Start URL (page, sitemap, robots.txt or feed).")],
    source: Annotated[str | None, typer.Option(help="Landing name for this source (default: spider name).")] = None,
    setting: Annotated[list[str] | None, typer.Option("--set", "-s", help="Scrapy setting NAME=VALUE.")] = None,
    config: ConfigOption = None,
    data_dir: DataDir = None,
    quiet: Quiet = False,
) -> None:
    """Crawl one source into the landing zone and print the run's counts."""
    from flows.config import check_source_name, command_line_setting, contact_settings
    from flows.crawl import run_crawl

    cfg, root = project(config, data_dir)
    try:
        settings = contact_settings(cfg.contact_url) | dict(command_line_setting(s) for s in setting or [])
        if source is not None:
            check_source_name(source, "--source")
        result = run_crawl(spider, url, source=source, data=root, settings=settings,
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


@app.command()
def extract(
    target: Annotated[str, typer.Argument(help="A saved HTML file or a URL.")],
) -> None:
    """Print the reviews (and any Movie aggregate rating) found on one page, as JSON lines."""
    from crawlers.extraction import extract_page
    from flows.extract_page import load_page

    try:
        html, url = load_page(target)
    except ReviewsError as exc:
        raise fail(str(exc)) from None
    page = extract_page(html, url, source="extract")
    for film in page.films:
        print(json.dumps({"type": "film", **asdict(film)}, ensure_ascii=False))
    for review in page.reviews:
        print(json.dumps({"type": "review", **review.to_dict()}, ensure_ascii=False))
    for error in page.errors:
        err_console.print(f"[yellow]warning:[/yellow] {error}", highlight=False)
    err_console.print(f"{len(page.reviews)} reviews, {len(page.films)} films", highlight=False)


@app.command()
def run(
    spiders: Annotated[list[str] | None, typer.Argument(
        help="Spiders to crawl with --url, or source names from the config; none: every configured source.")] = None,
    url: Annotated[list[str] | None, typer.Option("--url", help="Start URL for the spiders.")] = None,
    source: Annotated[str | None, typer.Option(help="Landing name with --url (default: spider name).")] = None,
    full: Annotated[bool, typer.Option("--full", help="Crawl everything again, ignoring what is loaded.")] = False,
    config: ConfigOption = None,
    data_dir: DataDir = None,
    quiet: Quiet = False,
) -> None:
    """Crawl, then normalize and load every pending landing batch, then rebuild the marts.

    Exit code 3 when a run was unhealthy (far fewer reviews or fields than the source's recent runs).
    """
    from flows.settings import configure

    cfg, root = project(config, data_dir)
    configure(root)
    from flows.config import check_source_name, contact_settings
    from flows.pipeline import SourceSpec, pipeline
    from warehouse.db import WarehouseError, check_writable, warehouse_path

    quiet_user_errors()

    try:
        check_writable(warehouse_path(root))
        if url:
            if not spiders:
                raise ReviewsError("give the spider to start from --url, e.g. `reviews run schema_org --url ...`")
            if source is not None:
                check_source_name(source, "--source")
            sources = [SourceSpec(spider, list(url), source or spider, contact_settings(cfg.contact_url),
                                  incremental=True, full=full) for spider in spiders]
        else:
            chosen = [cfg.source(name) for name in spiders] if spiders else cfg.sources
            if spiders is None and not chosen and not quiet:
                err_console.print("no sources configured (reviews.toml); loading pending batches only")
            sources = [SourceSpec(s.spider, s.urls, s.name, s.scrapy_settings(cfg.contact_url), incremental=True,
                                  full=full) for s in chosen]
        result = pipeline(sources, str(root), show_progress=not quiet, mart_params=cfg.marts, health=cfg.health)
    except RunIncomplete as exc:
        _report_run(exc.result, quiet)
        raise failed(exc) from None
    except (ReviewsError, WarehouseError) as exc:
        raise failed(exc) from None
    except KeyboardInterrupt:  # stopped while crawling: the crawl kept its state
        err_console.print("stopped: the next run resumes the crawl where it stopped and loads what it landed")
        raise typer.Exit(130) from None
    if _report_run(result, quiet):
        raise typer.Exit(3)


def _report_run(result: PipelineResult, quiet: bool) -> bool:
    """Print a run's summary and its unhealthy runs; whether there were any."""
    from flows.summary import print_summary

    if not quiet:
        print_summary(Path(result.warehouse), console, result.loads)
    for bad in result.unhealthy:
        err_console.print(f"[yellow]unhealthy:[/yellow] {bad['source']} run {bad['run_id']}: {bad['health_notes']}",
                          highlight=False)
    return bool(result.unhealthy)


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    config: ConfigOption = None,
    data_dir: DataDir = None,
) -> None:
    """Last run per source (counts, health, duration), warehouse size and rows, batches not yet loaded."""
    from flows.status import status as read_status
    from warehouse.db import WarehouseError

    _, root = project(config, data_dir)
    try:
        report = read_status(root)
    except WarehouseError as exc:
        raise fail(str(exc)) from None
    if as_json:
        print(json.dumps(report, default=str, indent=2))
        return
    from flows.output import print_status

    print_status(report, console)


@app.command()
def sources(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    config: ConfigOption = None,
    data_dir: DataDir = None,
) -> None:
    """The configured sources and their last run."""
    from flows.status import sources as read_sources
    from warehouse.db import WarehouseError

    cfg, root = project(config, data_dir)
    try:
        listed = read_sources(cfg, root)
    except WarehouseError as exc:
        raise fail(str(exc)) from None
    if as_json:
        print(json.dumps(listed, default=str, indent=2))
        return
    from flows.output import print_sources

    print_sources(listed, console)


@app.command()
def report(
    week: Annotated[str | None, typer.Option(help="ISO week like 2026-W47 (default: the last complete week).")]
    = None,
    out: Annotated[Path | None, typer.Option(help="Folder for <week>.html and <week>.md (default reports/).")]
    = None,
    config: ConfigOption = None,
    data_dir: DataDir = None,
) -> None:
    """Write the weekly summary report as self-contained HTML and Markdown."""
    from datetime import date

    from flows.report import write_report
    from flows.report.weeks import asked_week
    from warehouse.db import WarehouseError, warehouse_path

    cfg, root = project(config, data_dir)
    out_dir = out or Path(cfg.report_out)
    try:
        if week is not None:
            asked_week(week, date.today())
    except ValueError as exc:
        raise fail(str(exc)) from None
    # Checked before the report is built, which takes a while; whatever else stops the writing (no such
    # parent, no permission, a read-only file system) is an OSError from write_report below.
    if out_dir.exists() and not out_dir.is_dir():
        raise fail(f"--out {out_dir} is a file, not a folder")
    try:
        paths = write_report(warehouse_path(root), week, out_dir)
    except (WarehouseError, ValueError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write the report to {exc.filename or out_dir}: {exc.strerror or exc}") from None
    console.print(f"report {paths.week}:\n  {paths.html}\n  {paths.markdown}", highlight=False)


@app.command()
def serve(
    config: ConfigOption = None,
    port: Annotated[int, typer.Option(help="Port for the local Prefect server when PREFECT_API_URL is unset.")]
    = 4200,
    data_dir: DataDir = None,
) -> None:
    """Run the config's schedules (a crawl per source, the weekly report) as Prefect deployments until Ctrl-C."""
    from flows.settings import configure

    cfg, root = project(config, data_dir)
    configure(root, quiet=False)
    from flows.serve import serve_forever  # after configure: Prefect must read the settings it set

    try:
        serve_forever(cfg, root, port=port, echo=lambda line: console.print(line, highlight=False, soft_wrap=True))
    except ReviewsError as exc:
        raise fail(str(exc)) from None


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="SQL to run read-only against the warehouse.")],
    format: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
    config: ConfigOption = None,
    data_dir: DataDir = None,
) -> None:
    """Run one reading SQL statement against the warehouse."""
    from flows.output import print_rows
    from warehouse.db import WarehouseError, connect, warehouse_path
    from warehouse.queries import lock_down, run_read_only

    if format not in ("table", "csv", "json"):
        raise fail(f"unknown format {format!r}; choose table, csv or json")
    _, root = project(config, data_dir)
    try:
        with connect(warehouse_path(root), read_only=True) as conn:
            lock_down(conn, show_progress=console.is_terminal)
            columns, rows = run_read_only(conn, query, "json" if format == "json" else "text")
        print_rows(columns, rows, format, console)
    except WarehouseError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None  # Ctrl-C: the shell's code for SIGINT, and no traceback


@app.command()
def demo(data_dir: DataDir = None, quiet: Quiet = False,
         films: Annotated[int, typer.Option(help="Films on the demo site.")] = 40,
         reviews_per_film: Annotated[int, typer.Option(help="Reviews per film.")] = 75) -> None:
    """Serve the demo site on loopback, crawl it completely, compare with its ground truth."""
    from flows.demo import run_demo
    from flows.demosite import DemoSite
    from flows.settings import configure
    from warehouse.db import WarehouseError

    try:
        DemoSite(films=films, reviews_per_film=reviews_per_film)  # cheap: checks the sizes before anything runs
    except ValueError as exc:
        raise fail(str(exc)) from None
    configure(data_dir, quiet=True)  # as run_demo does: before Prefect is imported
    quiet_user_errors()
    try:
        ok = run_demo(data_dir, films=films, reviews_per_film=reviews_per_film, quiet=quiet, console=console)
    except (ReviewsError, WarehouseError) as exc:
        raise failed(exc) from None
    if not ok:
        raise typer.Exit(1)



if __name__ == "__main__":
    app()
