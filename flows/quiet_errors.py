"""Keep Prefect from printing tracebacks for the errors and stops the CLI reports as one line.

A ReviewsError or WarehouseError raised inside a task or flow is logged by Prefect's engine (the
exception with its traceback, then "Finished in state Failed(...)") before it reaches the command,
which prints it as one line. `install` puts a filter on the console handlers Prefect set up, so those
records are dropped and only the command's line remains. Any other exception is a bug: Prefect's
records and traceback about it are kept. The API log handler is left alone, so a Prefect server still
records why a run failed.
"""

from __future__ import annotations

import logging
import re

from flows.errors import ReviewsError
from flows.prefect_server import api_gone
from warehouse.db import WarehouseError

USER_ERRORS: tuple[type[Exception], ...] = (ReviewsError, WarehouseError)

# Prefect's own wording: "Finished in state Failed('Task run encountered an exception WarehouseBusy: ...')",
# "Finished in state Failed('Flow run encountered an exception: ReviewsError: ...')", and the retry log
# lines "Task run failed with exception: WarehouseBusy('...') - Retry 1/2 ...".
_ABOUT_AN_EXCEPTION = (
    re.compile(r"^Finished in state \w+\(.*?encountered an exception:? (?P<name>[A-Za-z_]\w*): ", re.DOTALL),
    re.compile(r"^Task run failed with exception: (?P<name>[A-Za-z_]\w*)\("),
)


# A stop (Ctrl-C, or SIGTERM, which the pipeline turns into the same KeyboardInterrupt): the command prints its own
# `stopped` line, and Prefect's "Crash detected! Execution was aborted by an interrupt signal." and "Finished in
# state Crashed('Execution was aborted by an interrupt signal.')" would only repeat it as errors.
_ABOUT_A_STOP = re.compile(  # "termination" when the SIGTERM came before the pipeline took it as a Ctrl-C
    r"^(Crash detected! |Finished in state Crashed\(')Execution was aborted by an? (interrupt|termination) signal")


def is_user_error(exc: BaseException | None) -> bool:
    return isinstance(exc, USER_ERRORS)


def _user_error_names() -> set[str]:
    names: set[str] = set()
    pending: list[type] = list(USER_ERRORS)
    while pending:
        cls = pending.pop()
        if cls.__name__ not in names:
            names.add(cls.__name__)
            pending.extend(cls.__subclasses__())
    return names


class UserErrorFilter(logging.Filter):
    """Drops log records about a user-facing error (see the module docstring); keeps everything else."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and is_user_error(record.exc_info[1]):
            return False
        if record.exc_info and record.exc_info[1] is not None and api_gone(record.exc_info[1]):
            return False  # the server died: `reviews run` says so in one line (flows/cli.py)
        if record.exc_info and isinstance(record.exc_info[1], KeyboardInterrupt) and record.name.startswith("prefect"):
            return False
        if record.exc_info or not record.name.startswith("prefect"):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report, not ours
            return True
        if _ABOUT_A_STOP.match(message):
            return False
        for pattern in _ABOUT_AN_EXCEPTION:
            match = pattern.match(message)
            if match and match.group("name") in _user_error_names():
                return False
        return True


def install() -> None:
    """Add the filter to the handlers of the root and `prefect` loggers (where Prefect's console output
    goes). Filters on a logger would miss its children's records, so the handlers get it. Imports
    Prefect, which sets up its logging: call it after flows.settings.configure. Idempotent."""
    import prefect.main  # noqa: F401  (sets up Prefect's logging and so the handlers; `import prefect` is lazy)

    # Prefect's event and log senders drain their queues at exit and, on a busy machine, say so ("Still
    # processing items: 2 items remaining...") under a command's one error line: progress, not a problem.
    for worker in ("EventsWorker", "APILogWorker"):
        logging.getLogger(worker).setLevel(logging.ERROR)
    for logger in (logging.getLogger(), logging.getLogger("prefect")):
        for handler in logger.handlers:
            if not any(isinstance(existing, UserErrorFilter) for existing in handler.filters):
                handler.addFilter(UserErrorFilter())


# Set by `reviews serve` for the flow runs it starts (in processes of their own, which inherit it).
SERVED_ENV = "REVIEWS_SERVED_RUN"


class OneLineFilter(logging.Filter):
    """For runs under `reviews serve`, whose log is all anyone reads: a record about a user-facing error or a
    stop keeps its line (why the run failed or was stopped) but not the traceback; the engine's record that
    repeats it ("Engine execution exited with unexpected exception", "... interrupted by base exception") is
    dropped, as is the engine's record of a run the stop ended Cancelled (flows/served.py), which its "Finished in
    state Cancelled(...)" line, shown at INFO, already says. Any other exception keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        from prefect.exceptions import CancelledRun

        error = record.exc_info[1] if record.exc_info else None
        if record.levelno > logging.INFO and record.getMessage().startswith("Finished in state Cancelled("):
            # A run or task the stop ended, or one a user cancelled in Prefect's UI: Prefect logs it at ERROR, which
            # log alerts would take for a failure.
            record.levelno, record.levelname = logging.INFO, "INFO"
        if not (is_user_error(error) or isinstance(error, KeyboardInterrupt | CancelledRun)):
            return True
        if record.getMessage().startswith("Engine execution"):
            return False
        record.exc_info, record.exc_text = None, None
        return True


def quiet_served_run() -> None:
    """In a flow run that `reviews serve` started (SERVED_ENV set), put OneLineFilter on the console handlers,
    so serve's output has one line per failure, not Prefect's tracebacks. Idempotent; nothing elsewhere."""
    import os

    if not os.environ.get(SERVED_ENV):
        return
    for logger in (logging.getLogger(), logging.getLogger("prefect")):
        for handler in logger.handlers:
            # The console (Prefect's console handler is a StreamHandler); its API handler keeps the traceback.
            if isinstance(handler, logging.StreamHandler) and not any(
                    isinstance(existing, OneLineFilter) for existing in handler.filters):
                handler.addFilter(OneLineFilter())
