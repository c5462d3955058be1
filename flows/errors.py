"""The one exception type for mistakes a user can make; the CLI prints it as one line."""


class ReviewsError(Exception):
    """A user-facing error: bad argument, missing file, busy database, failed crawl."""


class CrawlFailed(ReviewsError):
    """The crawl's child process failed or was killed: not the user's mistake, so worth a retry (the
    pipeline's crawl task retries it) and, when retries are spent, exit code 1 rather than 2."""
