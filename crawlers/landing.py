"""Where a run's raw items go: `<data-dir>/raw/<source>/<run-id>.jsonl` and its siblings.

The landing zone is append-only and per run, so a run can be re-loaded, audited or
re-normalized later without crawling again.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DATA_DIR_ENV = "REVIEWS_DATA_DIR"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    return Path(explicit or os.environ.get(DATA_DIR_ENV) or "data")


def safe_name(name: str) -> str:
    """A source or run name usable as one path segment."""
    return _SAFE.sub("-", name).strip("-.") or "unnamed"


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def run_paths(root: Path, source: str, run_id: str) -> dict[str, Path]:
    folder = root / "raw" / safe_name(source)
    stem = safe_name(run_id)
    return {
        "items": folder / f"{stem}.jsonl",
        "rejects": folder / f"{stem}.rejects.jsonl",
        "stats": folder / f"{stem}.stats.json",
    }


def json_line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
