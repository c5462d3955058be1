"""Prefect's runner as `reviews serve` runs it: one stop, however often it is asked for.

Prefect's `serve()` took a Ctrl-C as a KeyboardInterrupt that killed the runs in flight at once (each stayed
Running in the UI for ever, its crawl going on as an orphan), and a second SIGTERM during its graceful stop
called `sys.exit`, which cut that stop short too. Here a Ctrl-C is the runner's SIGTERM: each run in flight
gets one SIGTERM (its crawl stops cleanly and keeps its job) and is recorded Cancelled, one after another,
within Prefect's 30 s grace each; further signals while that goes on only say it is still stopping.

The runs themselves ignore SIGINT (flows/served.py): a terminal's Ctrl-C reaches serve's whole process group,
and a run stopped by it directly recorded itself Crashed before the runner came to cancel it.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

STOPPING = "stopping: runs in flight are stopped cleanly first, one after another (up to 30 s each; their crawls " \
           "keep their jobs)"
STILL_STOPPING = "still stopping: runs in flight get up to 30 s each to end cleanly"


class Announcer:
    """Prints, from a thread of its own, the lines signal handlers hand it.

    A handler that printed could meet print's own buffer; one that started a thread to print took threading's
    locks, which a handler of a second signal, nested in the first, would wait on for ever (the hang of the stop
    flags, flows/crawl.py). `SimpleQueue.put` is reentrant: safe in a handler however signals nest.
    """

    def __init__(self, echo: Callable[[str], object]) -> None:
        self._lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        threading.Thread(target=self._print, args=(echo,), daemon=True, name="announcer").start()

    def say(self, line: str) -> None:
        self._lines.put(line)

    def close(self) -> None:
        """End the thread once the lines said so far are printed."""
        self._lines.put(None)

    def _print(self, echo: Callable[[str], object]) -> None:
        while (line := self._lines.get()) is not None:
            echo(line)


def make_runner(deployments: list[RunnerDeployment], say: Callable[[str], object]) -> Any:
    """Prefect's Runner for `deployments`, whose SIGTERM handler stops once, however often it is called."""
    from prefect.runner import Runner
    from prefect.utilities.annotations import NotSet

    class OneStopRunner(Runner):
        asked = False  # a flag of its own: Prefect sets `stopping` itself too (a cancellation that failed)

        def handle_sigterm(self, *args: Any, **kwargs: Any) -> None:
            # Prefect's own handler called sys.exit() in the middle of a stop under way, and logged from inside the
            # signal handler, where a write can meet the one it interrupted.
            if self.asked:
                say(STILL_STOPPING)
            elif not self.started or self._loop is None:  # nothing served yet: end at once, as Prefect's does
                raise SystemExit(0)
            else:
                say(STOPPING)
                self.asked = self.stopping = True
                self.execute_in_background(self.astop)

    # No limit on runs at once, as Prefect's serve() has (Runner's own default is 5: a sixth source due at the
    # same time waited, Late), unless PREFECT_RUNNER_PROCESS_LIMIT sets one.
    limit = None if os.environ.get("PREFECT_RUNNER_PROCESS_LIMIT") is None else NotSet
    # Serve pauses its deployments itself once the runner has stopped (flows/serve.py): Prefect's pause stopped at the
    # first deployment deleted meanwhile, with a traceback and exit 1, leaving the rest unpaused (Prefect QA).
    runner = OneStopRunner(pause_on_shutdown=False, limit=limit)
    for deployment in deployments:
        runner.add_deployment(deployment)
    return runner


def run_served(deployments: list[RunnerDeployment], say: Callable[[str], object], server_gone: list[int]) -> None:
    """Serve `deployments` until a stop (Ctrl-C, SIGTERM) or, when `server_gone` fills, the end of the server. `say`
    prints from signal handlers: an `Announcer`'s."""
    import asyncio

    from prefect.exceptions import TerminationSignal

    runner = make_runner(deployments, say)

    def interrupt(signum: int, frame: object) -> None:
        # Prefect's stop sets `started` back to False at once: `asked` is asked first.
        if server_gone or not (runner.started or runner.asked):  # nothing to stop cleanly: end as before
            raise KeyboardInterrupt
        runner.handle_sigterm()

    previous = signal.signal(signal.SIGINT, interrupt)
    previous_term = signal.getsignal(signal.SIGTERM)  # runner.start() installs its own: put back after
    try:
        asyncio.run(runner.start())
    except (KeyboardInterrupt, TerminationSignal):
        pass
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)
