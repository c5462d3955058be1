"""`reviews import`: a dataset dump into the landing zone, then loaded as `reviews run` loads (flows/importer.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from flows.cli_base import (
    ConfigOption,
    DataDir,
    QuietRun,
    app,
    configured,
    console,
    err_console,
    failed,
    project,
    quiet_user_errors,
    shown,
)
from flows.errors import ReviewsError


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A CSV (with a header row), JSON-lines or JSON-array dump of reviews.")],
    source: Annotated[str, typer.Option(help="Landing name of this dump's source, e.g. rt-dump.")],
    map_: Annotated[list[str] | None, typer.Option(
        "--map", help="FIELD=COLUMN[,COLUMN...]: which column holds a field (the first non-blank wins).")] = None,
    audience: Annotated[str, typer.Option(help="critic or user, for rows without an audience column.")]
    = "critic",
    encoding: Annotated[str | None, typer.Option(help="The file's text encoding (default: detected).")] = None,
    file_format: Annotated[str | None, typer.Option(
        "--format", help="csv or jsonl, which reads a JSON array too (default: from the file name).")] = None,
    delimiter: Annotated[str | None, typer.Option(
        help="The CSV's delimiter (default: the one of , ; tab | its header uses most).")] = None,
    critic: Annotated[str | None, typer.Option(
        help="The author of rows without a critic (a single account's export: Letterboxd, IMDb).")] = None,
    scale: Annotated[str | None, typer.Option(
        help="BEST or WORST-BEST: the rating scale of rows that give none, e.g. 5 (out of 5, as Letterboxd's "
             "0.5-5 stars), 10 (IMDb), 1-5.")] = None,
    date_order: Annotated[str | None, typer.Option(
        help="DMY or MDY: the order of day and month in its dates with slashes or dashes (default: what its "
             "dates show, else the source's earlier imports', else month first).")] = None,
    again: Annotated[bool, typer.Option("--again", help="Import a file already imported.")] = False,
    no_load: Annotated[bool, typer.Option("--no-load", help="Only land it; the next run loads it.")] = False,
    config: ConfigOption = None,
    data_dir: DataDir = None,
    quiet: QuietRun = False,
) -> None:
    """Land a dataset dump of reviews as one run of SOURCE, then load it as `reviews run` does."""
    cfg, root = project(config, data_dir)
    configured(root)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from flows.cli import run_pipeline
    from flows.config import check_source_name
    from flows.crawl import check_room, sigterm_as_interrupt
    from flows.import_columns import parse_mappings, parse_scale
    from flows.import_dates import parse_date_order
    from flows.importer import import_file
    from warehouse.db import WarehouseError, check_writable, warehouse_path

    quiet_user_errors()
    try:
        check_source_name(source, "--source")
        if any(s.name == source for s in cfg.sources):
            raise ReviewsError(f"--source {source!r} is a crawled source in the config; import under another name")
        delimiter = delimiter.replace("\\t", "\t") if delimiter else None
        if delimiter is not None and len(delimiter) != 1:
            raise ReviewsError(f"--delimiter must be one character (or \\t for a tab), not {delimiter!r}")
        order = parse_date_order(date_order)
        check_room(root)
        if not no_load:
            check_writable(warehouse_path(root))
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        # Not on a pipe or a log file: rich prints a blank line there when the display stops.
        with sigterm_as_interrupt(), Progress(*columns, console=err_console, transient=True,
                                              disable=quiet or not err_console.is_terminal) as progress:
            reading = progress.add_task(f"importing {file.name}: 0 rows")

            def read(rows: int) -> None:
                progress.update(reading, description=f"importing {file.name}: {rows:,} rows")

            result = import_file(file, source, root, parse_mappings(map_ or []), audience, encoding, file_format,
                                 again, read, delimiter, parse_scale(scale), critic, order)
    except (ReviewsError, WarehouseError) as exc:
        raise failed(exc) from None
    except KeyboardInterrupt:
        err_console.print("stopped: nothing of this import landed")
        raise typer.Exit(130) from None
    if result.already:
        pending = _not_loaded(root, source, result.already)
        console.print(f"{shown(str(file))} was imported before, as run {result.already} of {source} "
                      f"(same content){', not loaded yet' if pending else ''}; --again imports it again",
                      highlight=False, soft_wrap=True)
        if pending and not no_load:
            # A stopped load or --no-load left it pending: repeating the import loads it, as the import would
            # have (import QA: it exited 0 and loaded nothing, pointing at --again, which lands a second copy).
            run_pipeline(cfg, root, [], quiet, cfg.parallel, "stopped: the next run loads what this import landed")
        return
    if not quiet:
        fields = ", ".join(f"{name}={'|'.join(columns)}" for name, columns in result.columns.items())
        # A dump's headers are its own text: shown, never read as markup ("[/film]" raised a MarkupError).
        err_console.print(f"columns: {shown(fields)} (encoding {result.encoding})", highlight=False,
                          soft_wrap=True)
    for note in result.unused:  # also when quiet: ratings in a misspelt column would be lost without it
        err_console.print(f"[yellow]warning:[/yellow] {shown(note)}", highlight=False, soft_wrap=True)
    if result.dates and result.dates.note and (result.dates.warning or not quiet):  # a wrong date is a warning
        prefix = "[yellow]warning:[/yellow] " if result.dates.warning else ""
        err_console.print(f"{prefix}{shown(result.dates.note)}", highlight=False, soft_wrap=True)
    console.print(f"run {result.run_id}: {result.rows} rows, {result.landed} landed, {result.rejected} rejected "
                  f"as unreadable", highlight=False)
    if not no_load:
        run_pipeline(cfg, root, [], quiet, cfg.parallel, "stopped: the next run loads what this import landed")
        _note_possible_edits(root, source, result.run_id)


def _note_possible_edits(root: Path, source: str, run_id: str) -> None:
    """Say so when rows of a dump without review ids may be edits loaded as second reviews, or edits read as
    copies that kept the stored rating (also when quiet)."""
    import duckdb

    from flows.importer import kept_edits, possible_edits
    from flows.output import counted
    from warehouse.db import WarehouseError, connect, warehouse_path

    try:
        conn = connect(warehouse_path(root), read_only=True)
    except WarehouseError:  # a note only: taken by a writer again since the load, say nothing
        return
    try:
        count = possible_edits(conn, source, run_id)
        kept = kept_edits(conn, source, run_id)
    except duckdb.Error:  # a note only (a warehouse whose marts, and so its macros, were never built)
        return
    finally:
        conn.close()
    if kept:
        err_console.print(
            f"[yellow]warning:[/yellow] {counted(kept, 'row')} of this import repeat{'s' if kept == 1 else ''} the "
            f"text of a review an earlier import of {escape(source)} loaded, with another rating (or none) or "
            "title: without a review id column such a row is read as a copy of that review, which keeps what it "
            "stored (map the dump's id column with --map source_review_id=COLUMN if it has one)",
            highlight=False, soft_wrap=True)
    if count:
        err_console.print(
            f"[yellow]warning:[/yellow] {counted(count, 'review')} of this import "
            f"{'is' if count == 1 else 'are'} by a critic who already had a review of that film from {escape(source)}: "
            "without a review id column a changed row is a new review, so an edited row is now a second review "
            "(map the dump's id column with --map source_review_id=COLUMN if it has one)",
            highlight=False, soft_wrap=True)


def _not_loaded(root: Path, source: str, run_id: str) -> bool:
    """Whether the run is still waiting to be loaded (no warehouse yet counts; so does a busy one, which the
    pipeline then waits for or names)."""
    from warehouse.db import WarehouseError, connect, warehouse_path

    database = warehouse_path(root)
    if not database.exists():
        return True
    try:
        with connect(database, read_only=True) as conn:
            return not conn.execute("select count(*) from crawl_runs where source = ? and run_id = ?",
                                    [source, run_id]).fetchone()[0]
    except WarehouseError:
        return True
