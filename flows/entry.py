"""The `reviews` command's entry point: a stop while the command is still starting is one line, not a traceback.

A Ctrl-C while the command line is imported (about 0.1 s; more on a busy machine) ended in a traceback out of the
import machinery, and a SIGTERM killed it silently (stop-timing QA).
"""

from __future__ import annotations

import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typer import Typer

STOPPED_STARTING = "stopped: the command was still starting; nothing was done"


def as_interrupt(signum: int, frame: object) -> None:
    """A signal handler: the signal stops the program as Ctrl-C does."""
    raise KeyboardInterrupt


def main() -> None:
    """Run the `reviews` command line."""
    term = signal.signal(signal.SIGTERM, as_interrupt)
    try:
        from flows.cli import app
    except KeyboardInterrupt:
        sys.stderr.write(STOPPED_STARTING + "\n")
        raise SystemExit(130) from None
    finally:
        signal.signal(signal.SIGTERM, term)
    run(app)


def run(app: Typer) -> None:
    """The command line, as a command: after a stop, a second signal no longer cuts the command's end short."""
    from flows import crawl

    crawl.ignore_after_stop = True
    app(prog_name="reviews")
