"""Folders a step writes in, checked before it starts: a folder it cannot write fails the step at once with one
line naming the folder and what it holds, never half-way through a crawl with the cause only in its log."""

from __future__ import annotations

import os
from pathlib import Path

from flows.errors import ReviewsError


def check_writable(folder: Path, holds: str) -> None:
    """Create `folder` if need be and write a file in it; ReviewsError naming it and what it `holds` if either
    fails (no permission after the data folder changed hands, a file where the folder goes, a read-only disk)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-check-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise ReviewsError(f"{folder}: cannot write there ({exc.strerror or exc}); it holds {holds}, and must be "
                           "writable by whoever runs reviews on this data folder") from None
