"""The one exception type for mistakes a user can make; the CLI prints it as one line."""


class ReviewsError(Exception):
    """A user-facing error: bad argument, missing file, busy database, failed crawl."""


class CrawlFailed(ReviewsError):
    """The crawl's child process failed or was killed: not the user's mistake, so worth a retry (the
    pipeline's crawl task retries it) and, when retries are spent, exit code 1 rather than 2."""


class RunStopped(ReviewsError):
    """The run was stopped (SIGTERM, Ctrl-C) while it loaded: the load rolled back, its batch stays pending
    for the next run. Exit code 130, as for an interrupt, and one line instead of Prefect's tracebacks."""


class SourceBusy(ReviewsError):
    """Another live run is crawling this source: this run leaves it alone (and its other sources go on)."""


class _Rebuilt:
    """Pickled with the arguments its constructor takes, not the message (Prefect may persist a state's data, and
    an error built from a message and a result would not unpickle: review)."""

    _args: tuple[str, ...] = ()

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        return (type(self), tuple(getattr(self, name) for name in self._args))


class RunIncomplete(_Rebuilt, ReviewsError):
    """Some sources' crawls or some landing batches' loads failed while the rest of the run went on (a
    crashed crawl child, a batch the load cannot take): exit code 1, after the run's summary. A batch
    that failed stays pending and is tried again by the next run, without holding the others back."""

    _args = ("failures", "result")

    def __init__(self, failures: list[str], result: object) -> None:
        # "The rest" only when there was one: a run whose one source was refused said so too (diagnosis QA).
        rest = (", the rest was crawled, loaded and aggregated" if getattr(result, "crawls", None)
                or getattr(result, "loads", None) else "")
        super().__init__(f"{len(failures)} part{'s' if len(failures) > 1 else ''} of the run failed{rest}: "
                         + "; ".join(failures))
        self.failures = failures
        self.result = result


class RunUnhealthy(_Rebuilt, ReviewsError):
    """A scheduled run (`reviews serve`) whose crawl was judged unhealthy: raised at its end, after its loads and
    marts, so the run shows as Failed in Prefect's UI instead of Completed (`reviews run` exits 3 instead)."""

    _args = ("unhealthy", "result")

    def __init__(self, unhealthy: list[dict], result: object = None) -> None:
        super().__init__("unhealthy: " + "; ".join(f"run {run.get('run_id')} of {run.get('source')}: "
                                                     f"{run.get('health_notes')}" for run in unhealthy))
        self.unhealthy = unhealthy
        self.result = result  # the run's PipelineResult, when it went on to load and rebuild the marts
