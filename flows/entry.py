"""The `reviews` command's entry point: a stop before the command takes the signals over is one line, not a
traceback or a silent death.

A Ctrl-C while the command line was imported (about 0.1 s; more on a busy machine) ended in a traceback out of the
import machinery, and a SIGTERM before a command's own stop handling (up to seconds: Prefect's server starting, the
step between an import's landing and its load) killed it silently with -15 (stop-timing QA). SIGTERM now stops the
command as Ctrl-C does from the start, and a stop no step of the command reported is named here.
"""

from __future__ import annotations

import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typer import Typer

STOPPED_STARTING = "stopped: the command was still starting; nothing was done"
STOPPED_BETWEEN_STEPS = "stopped: before the command's work began or between its steps; what it had finished is kept"


def as_interrupt(signum: int, frame: object) -> None:
    """A signal handler: the signal stops the program as Ctrl-C does."""
    raise KeyboardInterrupt


def main() -> None:
    """Run the `reviews` command line."""
    signal.signal(signal.SIGTERM, as_interrupt)
    try:
        from flows import crawl  # noqa: F401  (run's import, here where a stop is still "starting")
        from flows.cli import app
    except KeyboardInterrupt:
        _quiet()
        sys.stderr.write(STOPPED_STARTING + "\n")
        raise SystemExit(130) from None
    run(app)


def run(app: Typer) -> None:
    """The command line, as a command: after a stop, a second signal no longer cuts the command's end short."""
    from flows import crawl

    crawl.ignore_after_stop = True
    try:
        app(prog_name="reviews")
    except SystemExit as exc:
        # Typer ends a KeyboardInterrupt no step caught with exit 130 and no word (`Exit(130) from` it); a step that
        # caught it has printed its own line and raised Exit(130) from None.
        stopped = exc.code == 130 and isinstance(getattr(exc.__context__, "__cause__", None), KeyboardInterrupt)
        if exc.code == 130:
            _quiet()
        if stopped:
            sys.stderr.write(STOPPED_BETWEEN_STEPS + "\n")
        raise


def _quiet() -> None:
    """The command is ending after a stop: another signal now would only cut its last line and exit code short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
