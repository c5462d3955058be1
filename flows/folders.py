"""Folders a step writes in, checked before it starts: a folder it cannot write fails the step at once with one
line naming the folder and what it holds, never half-way through a crawl with the cause only in its log."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flows.errors import ReviewsError


def check_writable(folder: Path, holds: str) -> None:
    """Create `folder` if need be and write a file in it; ReviewsError naming it and what it `holds` if either
    fails (no permission after the data folder changed hands, a file where the folder goes, a read-only disk)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # A name of its own: a run's parallel crawls probe state/ at once from one process.
        descriptor, probe = tempfile.mkstemp(prefix=".write-check-", dir=folder)
        os.close(descriptor)
        os.unlink(probe)
    except OSError as exc:
        raise ReviewsError(f"{folder}: cannot write there ({exc.strerror or exc}); it holds {holds}, and must be a "
                           "folder writable by whoever runs reviews on this data folder") from None
