"""The one exception type for mistakes a user can make; the CLI prints it as one line."""


class ReviewsError(Exception):
    """A user-facing error: bad argument, missing file, busy database, failed crawl."""
