"""Where a run's raw items go: `<data-dir>/raw/<source>/<run-id>.jsonl` and its siblings.

The landing zone is append-only and per run, so a run can be re-loaded, audited or
re-normalized later without crawling again.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DATA_DIR_ENV = "REVIEWS_DATA_DIR"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


# Relative to the current folder, when neither --data-dir, REVIEWS_DATA_DIR nor a config names one.
DEFAULT_DATA_DIR = "data"


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    return Path(explicit or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR).expanduser()


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
        "lock": folder / f"{stem}.lock",  # held while the crawl writes the run (crawlers.extensions.BatchLock)
    }


def json_line(record: dict[str, Any]) -> str:
    """`record` as one JSON line; a lone surrogate in it is spelled out (see `storable`)."""
    text = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(storable(record), ensure_ascii=False, sort_keys=True) + "\n"
    return text


def storable(value: Any) -> Any:
    """`value` with each lone surrogate spelled out as the six characters of its escape (`\\ud800`).

    A page's JSON-LD or a dump's JSON line can hold the escape of half a surrogate pair, which json.loads
    turns into a character that UTF-8, Arrow and DuckDB's JSON all refuse: an item holding one was lost when
    its landing line could not be written, and a reject holding one kept its batch from ever loading.
    """
    if isinstance(value, str):
        return value if value.isascii() else value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step: readers and crashes see the old file or the new one.

    The text goes to a temporary file in the same directory (so the rename stays on one file
    system), is flushed and fsynced, then renamed over `path`; on any failure the temporary
    file is removed and `path` is left as it was.
    """
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # os.open with 0o666 honours the umask, as write_text did (mkstemp would make it 0600).
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable; not possible everywhere
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def write_json_atomic(path: Path, data: Any, default: Any = None) -> None:
    """Write `data` as indented, key-sorted JSON with `write_atomic`.

    The JSON is built before any file is touched, so a value it cannot serialize raises
    and leaves `path` as it was.
    """
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=default) + "\n")


def being_written(lock_path: Path) -> bool:
    """Whether a crawl still holds a run's lock: its landing files are still being written. A lock file left
    by a crawl that died is free (the operating system released it with the process)."""
    from filelock import FileLock, Timeout

    if not lock_path.exists():
        return False
    lock = FileLock(lock_path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    lock.release()
    return False


def free_bytes(path: Path) -> int:
    """Free bytes on the disk holding `path` (its nearest existing parent)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free
