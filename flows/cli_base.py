"""What every `reviews` command shares: the Typer app, the consoles, the common options, and the one-line
error exits (user mistakes surface as one line on stderr and a non-zero exit, never a traceback)."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from flows.errors import CrawlFailed, ReviewsError, RunIncomplete, RunStopped
from flows.output import visible

if TYPE_CHECKING:
    from rich.segment import Segment

    from flows.config import Config, Source

def _flags_without_a_type() -> None:
    """Typer (0.29) shows a flag as `--quiet <bool>` in help, as if it took a value; a flag shows no type."""
    from typer.core import TyperOption

    shown = getattr(TyperOption, "display_type_rich", None)
    if shown is None:  # an older Typer (0.20) has no such method
        return
    TyperOption.display_type_rich = lambda self, ctx: None if self.is_flag else shown(self, ctx)  # type: ignore[method-assign]


def _usable_streams() -> None:
    """Standard output and error as a scheduled job may leave them: closed (`2>&-` made run, demo and import end
    in an AttributeError, exit 1) they write nowhere; in an encoding that cannot spell a film's title (ASCII,
    Latin-1) a character is written as its escape, not a UnicodeEncodeError that hid `reviews run`'s exit code."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 (open for the process)
        elif hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def _width() -> int | None:
    """The consoles' width: Rich's own choice, except for a COLUMNS too narrow to print in (COLUMNS=0 printed
    nothing at all, `error:` lines included, while the exit codes stayed: environment QA)."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        return None
    return 80 if columns < 20 else None


_flags_without_a_type()
_usable_streams()
app = typer.Typer(help="Collect public film reviews, normalize them, and query them with SQL.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """A reader gone (`| head`, a closed pipe): BrokenPipeError for the command to handle. Rich's own answer,
        SystemExit(1), ended `reviews run` with exit 1 after a good run whose summary went unread."""
        if self.file is sys.stdout:  # a broken standard error leaves standard output alone
            stdout_gone()
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        """The buffered output as text, the buffer emptied at once. Rich empties it only after writing and
        flushing, so a stop (KeyboardInterrupt) landing in between wrote the line again with the next print: a
        `waiting` line printed twice above `stopped` (compact, in CI). Lost in that instant is better."""
        text = super()._render_buffer(buffer)
        if not self.is_jupyter:  # a notebook's display() still reads the buffer after this
            del self._buffer[:]
        return text


console = _Console(width=_width())
err_console = _Console(stderr=True, width=_width())

DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", help="Data folder (default $REVIEWS_DATA_DIR, else the config's data_dir, else ./data).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")]
QuietRun = Annotated[bool, typer.Option(
    "--quiet", "-q", help="No progress display and no summary tables (warnings and errors still print).")]
ConfigOption = Annotated[Path | None, typer.Option("--config", help="Config file (default ./reviews.toml if present).")]
ProfileOption = Annotated[Path | None, typer.Option(
    "--profile", help="The site profile (a TOML file of selectors) for the profile spider.")]


def stdout_gone() -> None:
    """After a write to standard output failed (a reader gone, a full disk): point it at /dev/null, or Python
    complains again when it flushes it at exit."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # no descriptor to replace
        pass


@contextmanager
def to_stdout() -> Iterator[None]:
    """A command's printing to standard output: a reader gone (`| head`) ends it quietly, and a full disk under it is
    one error line (`reviews status > full/log` was a traceback: resources QA)."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        stdout_gone()
        raise typer.Exit(0) from None
    except OSError as exc:
        stdout_gone()
        raise fail(f"cannot write to standard output: {exc.strerror or exc}") from None


def shown(text: str) -> str:
    """Text for an error or warning line: Rich markup escaped (messages quote config tables, "[marts]", and paths,
    which Rich would read as markup and drop), and control characters shown as escapes, since messages quote
    scraped text, a column name or a value (DuckDB's "Could not convert string '4/5\\x1b[2J'" cleared the
    screen: sizes QA)."""
    return escape(visible(text))


def fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {shown(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def failed(exc: Exception) -> typer.Exit:
    """`fail` for a caught error: exit code 2 for the user's mistakes, 1 for a crawl whose child failed or a
    run that went on past failed parts, 130 for a run stopped while it loaded."""
    code = 130 if isinstance(exc, RunStopped) else 1 if isinstance(exc, CrawlFailed | RunIncomplete) else 2
    return fail(str(exc), code)


def configured(root: Path, quiet: bool = True) -> None:
    """flows.settings.configure for a command: a Prefect setting it cannot read is an `error:` line."""
    from flows.settings import configure

    try:
        configure(root, quiet=quiet)
    except ReviewsError as exc:
        raise failed(exc) from None


def quiet_user_errors() -> None:
    """Keep Prefect from logging a traceback for an error this command prints as one `error:` line
    (flows.quiet_errors); call after flows.settings.configure."""
    from flows.quiet_errors import install

    install()


def project(config: Path | None, data_dir: Path | None, reading: bool = False,
            named: Iterable[str] = ()) -> tuple[Config, Path]:
    """The config (./reviews.toml or --config) and the data folder: --data-dir, then REVIEWS_DATA_DIR, then
    the config's data_dir, then ./data. With `reading` (a command that only reads the warehouse), a mistake
    in the config is a warning, and the command goes on with the file's data_dir and [report] out. A source
    whose profile is broken is a warning, except for the `named` ones, for which the command says so as its
    error (the same line twice otherwise)."""
    from crawlers.landing import DATA_DIR_ENV, DEFAULT_DATA_DIR
    from flows.config import Config, ConfigMissing, config_path, folders_only, load_config
    from flows.settings import check_folder

    try:
        cfg = load_config(config)
    except ConfigMissing as exc:
        raise fail(str(exc)) from None
    except ReviewsError as exc:
        if not reading:
            raise fail(str(exc)) from None
        path = config_path(config)
        assert path is not None  # no file gives the defaults, which cannot be wrong
        try:
            cfg = folders_only(path)
        except ReviewsError:
            if not (data_dir or os.environ.get(DATA_DIR_ENV)):
                raise fail(f"{exc} (give --data-dir to read the warehouse all the same)") from None
            cfg = Config(path=path)
        err_console.print(f"[yellow]warning:[/yellow] {shown(str(exc))}; read anyway, but no run can start "
                          "until it is mended", highlight=False, soft_wrap=True)
    for source in cfg.sources:
        if source.profile_error and source.name not in set(named):
            err_console.print(f"[yellow]warning:[/yellow] source {source.name!r} cannot be crawled: "
                              f"{shown(source.profile_error)}", highlight=False, soft_wrap=True)
    root = Path(data_dir or os.environ.get(DATA_DIR_ENV) or cfg.data_dir or DEFAULT_DATA_DIR).expanduser().resolve()
    try:
        str(root).encode("utf-8")  # a Latin-1 folder name: its bytes reached Prefect's JSON as a traceback
    except UnicodeEncodeError:
        raise fail(f"the data folder's name is not UTF-8 ({os.fsencode(root)!r}); give a folder whose name is")\
            from None
    try:
        check_folder(root)
    except ReviewsError as exc:
        raise fail(str(exc)) from None
    return cfg, root


def profile_args(spider: str, profile: Path | None, urls: list[str]) -> tuple[list[str], dict[str, str]]:
    """(start URLs, spider arguments) of a crawl given on the command line: the profile spider needs --profile,
    read and checked here, and starts from its start_urls when no --url is given."""
    from flows.config import read_profile

    if spider != "profile":
        if profile is not None:
            raise ReviewsError(f"--profile is for the profile spider, not {spider!r}")
        return urls, {}
    if profile is None:
        raise ReviewsError("the profile spider needs --profile FILE: the site profile to crawl with")
    checked = read_profile(profile)
    if not urls and not checked.start_urls:
        raise ReviewsError(f"give --url, or start_urls in the profile {profile}")
    return urls or list(checked.start_urls), {"profile": str(checked.path)}


def source_name(spider: str, profile: Path | None, source: str | None) -> str:
    """The landing name of a crawl given on the command line: --source, else the profile file's name for the
    profile spider (two sites' profiles must not share one source's history), else the spider's name."""
    from flows.config import check_source_name

    if source is not None:
        return check_source_name(source, "--source")
    if spider == "profile" and profile is not None:
        return check_source_name(profile.stem, f"the profile's file name (the default --source), {profile.stem!r},")
    return spider


def configured_source(cfg: Config, name: str, spider: str) -> Source | None:
    """The config's source a command-line crawl lands as, if any: its politeness settings (download_delay,
    concurrency, user_agent, settings) and full_every_days apply to it too. One source's history (incremental
    state, health baselines) is one spider's, so another spider under its name is a ReviewsError."""
    known = next((s for s in cfg.sources if s.name == name), None)
    if known is not None and known.spider != spider:
        raise ReviewsError(f"source {name!r} is crawled with the {known.spider} spider in {cfg.path}; a {spider} "
                           "crawl under its name would mix two spiders' runs in its history: give another --source")
    return known


def source_settings(cfg: Config, known: Source | None) -> dict[str, object]:
    """The Scrapy settings of a command-line crawl: the configured source's own, else only the contact."""
    from flows.config import contact_settings

    return known.scrapy_settings(cfg.contact_url) if known else contact_settings(cfg.contact_url)
