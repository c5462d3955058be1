"""Prefect's temporary API server, kept out of the signals meant for a run.

Without PREFECT_API_URL, Prefect starts a temporary server (uvicorn, a child process) for the length of one
command. Prefect starts it in the command's process group, so a Ctrl-C in the terminal, or a SIGTERM sent to the
group, stopped the server together with the run: the run's own clean stop then failed to report its state,
printed a page of connection tracebacks after a minute of retries and exited 1. Started here instead, the server
lives in its own session (signals for the run reach the run only, which stops the server when it exits, as
Prefect's atexit hook does) and, on Linux, receives SIGTERM when the run dies, so a killed run does not leave it
running. Its output goes to `<PREFECT_HOME>/server.log`, not the terminal: a server that cannot start (a full
disk) printed thousands of lines; now the run says so in one line.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import warnings
from contextlib import suppress
from functools import cache, partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any, BinaryIO

from flows.errors import ReviewsError

PR_SET_PDEATHSIG = 1
_spawning = threading.Lock()


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    """Whether a Prefect API answers at `api_url` (its /health)."""
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def check_api(api_url: str) -> None:
    """ReviewsError, one line, when the Prefect server PREFECT_API_URL names does not answer."""
    if not healthy(api_url, timeout=10.0):
        raise ReviewsError(f"PREFECT_API_URL={api_url} does not answer (no {api_url}/health): start that Prefect "
                           "server, or unset PREFECT_API_URL for a server started for the command")


def api_gone(exc: BaseException) -> bool:
    """Whether an exception a run ended with is Prefect's client failing to reach its API server, or raised from
    such a failure: a server that died mid-run (killed, out of memory, its disk full) ended a finished run in pages
    of connection tracebacks (crash QA). Not an error status from a server that answers, nor a bug met while
    handling a network error (review)."""
    import httpx
    from prefect.exceptions import PrefectHTTPStatusError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, httpx.TransportError) or \
                (isinstance(current, RuntimeError) and "Failed to reach API" in str(current)):
            return True
        if isinstance(current, PrefectHTTPStatusError) and current.response.status_code in (502, 503, 504):
            return True
        current = current.__cause__
    return False


def server_log() -> Path:
    """Where the temporary server's output goes."""
    from prefect.settings import PREFECT_HOME

    return Path(PREFECT_HOME.value()) / "server.log"


def start_temporary_server() -> None:
    """Start Prefect's temporary server now, in its own session, unless PREFECT_API_URL names a server.

    Call it from the main thread, after flows.settings.configure: on Linux the server is told to stop when the
    thread that started it ends, and the main thread ends only with the process. Prefect then uses this server,
    as it would have used the one it starts on its own.
    """
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_HOME,
        PREFECT_SERVER_EPHEMERAL_ENABLED,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    )

    # As Prefect decides (environment, profile, prefect.toml): a server named anywhere is used, not started.
    if api_url := PREFECT_API_URL.value():
        check_api(api_url)  # else the run's first task ended in a page of "Failed to reach API" tracebacks
        return
    if not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return
    home = Path(PREFECT_HOME.value())
    log_path = server_log()
    _check_room_for(home)  # free_bytes reads the nearest folder there is: the home need not exist yet
    try:
        home.mkdir(parents=True, exist_ok=True)
        log_path.open("ab").close()
    except OSError as exc:
        raise ReviewsError(f"{home}: cannot write Prefect's folder there ({exc.strerror or exc})") from None
    server = temporary_server()
    try:
        server.start()
    except RuntimeError as exc:  # "Timed out while attempting to connect to ephemeral Prefect API server"
        starting = server.server_process is not None and server.server_process.poll() is None
        server.stop()
        from crawlers.landing import free_bytes

        if (free := free_bytes(home)) < 4 * 2**20:  # it hangs on a full disk, saying nothing (resources QA)
            raise ReviewsError(f"Prefect's temporary server did not start: the disk of {home} is full "
                               f"({free // 1024} KB free); free some room there, and if it still fails, delete "
                               f"{home}, which holds only Prefect's run history (a full disk can leave its database "
                               "half-migrated)") from None
        # Not crashed, only slow: its log may still be empty, so it says why it was stopped. Prefect starts again a
        # server that exits: alive at the deadline, it may be the latest of several that each failed at once (a
        # deleted working folder), which the log tells (environment QA).
        if starting and b"Application startup failed" not in log_path.read_bytes():
            waited = PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()
            with suppress(OSError), log_path.open("ab") as log:  # a full disk: the error below says enough
                separator = b"\n" if log.tell() else b""
                log.write(separator + f"reviews: stopped, still starting after {waited:g} s\n".encode())
            raise ReviewsError(f"Prefect's temporary server did not start: still starting after {waited:g} s (on a "
                               "busy machine, set PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS higher); its log is "
                               f"{log_path}") from None
        raise ReviewsError(f"Prefect's temporary server did not start ({exc}); its log is {log_path}. After a "
                           f"full disk its database can be left half-migrated: delete {home}, which holds only "
                           "Prefect's run history") from None
    process = server.server_process
    # Checked only on a server started here (one Prefect started earlier in this process is left as it is), so a
    # Prefect release that starts it otherwise does not go unnoticed.
    if isinstance(server, _own_session_server()) and process is not None and os.getsid(process.pid) != process.pid:
        warnings.warn("Prefect's temporary server shares this run's process group: a Ctrl-C or a SIGTERM sent to the "
                      "group stops it too, and the run's stop then ends in connection errors", stacklevel=2)


def temporary_server() -> Any:
    """The temporary server Prefect uses in this process (a SubprocessASGIServer), made the one of this module
    unless Prefect made its own first. Prefect starts it when it first needs it, as it starts its own, so a flow
    called directly (the tests call some) gets the port and the session of this module too."""
    # Prefect keeps one server per port and asks for the one without a port: this instance becomes it.
    return _own_session_server()()


@cache
def _own_session_server() -> type[Any]:
    from prefect.server.api import server as prefect_server

    class OwnSessionServer(prefect_server.SubprocessASGIServer):
        listener: socket.socket | None = None
        log_started = False

        def find_available_port(self) -> int:
            # Prefect picks a random free port and uvicorn binds it seconds later: two commands started together
            # could pick the same one, and the second took the first's server for its own (it answered /health),
            # so its run was recorded there and was "not found" once that server had gone (seen in CI). A port the
            # kernel hands out and this process holds until the server has it cannot be shared.
            # Bound, not listening: until uvicorn listens on it, a health check is refused and tried again, as
            # Prefect expects (a queued one timed out), and without SO_REUSEADDR no one else can bind the port.
            # uvicorn reads an --fd socket as AF_UNIX, so asyncio leaves Nagle on for it: every answer waited ~40 ms
            # for the client's delayed ACK (review). Set here, the accepted connections inherit it. A listener on
            # fd 0-2 (a command started with stdout closed) would be replaced by the child's output (review).
            self.close_listener()
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if listener.fileno() < 3:
                listener = socket.socket(fileno=_above_standard_streams(listener))
            listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            listener.bind(("127.0.0.1", 0))
            self.listener = listener
            return int(listener.getsockname()[1])

        def close_listener(self) -> None:
            if self.listener is not None:
                self.listener.close()
                self.listener = None

        def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
            # Prefect builds the command and its environment; only how the child starts changes here. The log holds
            # the last start's output only (a failing daily job must not grow it), with each attempt of that start.
            log_path = server_log()
            log_path.parent.mkdir(parents=True, exist_ok=True)
            if self.listener is None:  # a start again after a failed one kept the port it no longer holds
                self.port = self.find_available_port()
            listener = self.listener
            assert listener is not None  # find_available_port sets it
            # Started by Prefect from another thread (a flow called there first), the server would be stopped when
            # that thread ends: it is left to Prefect's stop at exit instead (review).
            watched = threading.current_thread() is threading.main_thread()
            with _spawning, server_log_file(log_path, fresh=not self.log_started) as log:
                self.log_started = True
                shared = prefect_server.subprocess
                # The whole module, so whatever else of it Prefect uses there (PIPE, DEVNULL) is still found.
                prefect_server.subprocess = SimpleNamespace(**{**vars(subprocess), "Popen": partial(
                    _popen, listener=listener, start_new_session=True,
                    preexec_fn=stop_with_parent(os.getpid()) if watched else None, stdout=log,
                    stderr=subprocess.STDOUT)})
                try:
                    return super()._run_uvicorn_command()
                finally:
                    prefect_server.subprocess = shared
                    self.close_listener()  # the child has its own copy; ours would keep the port after it exits

    return OwnSessionServer


def server_log_file(path: Path, fresh: bool) -> BinaryIO:
    """A Prefect server's log opened for its output, emptied first when `fresh`, unless a live server writes it:
    a run in a folder `reviews serve` serves (or beside another run) emptied the log that server was writing
    (concurrency QA). Every server's output holds a shared lock on it, the open file's, so it lasts as long as the
    server; only a start that can take it exclusively, none writing, empties the file."""
    log = path.open("ab")
    try:
        import fcntl
    except ImportError:  # not on this system: as before, the last start's output only
        if fresh:
            log.truncate(0)
        return log
    try:
        fcntl.flock(log.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        pass  # another server writes it: added to
    else:
        if fresh:
            log.truncate(0)
    with suppress(OSError):  # a writer that cannot take its share only leaves the next start free to empty the log
        fcntl.flock(log.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
    return log


def _above_standard_streams(sock: socket.socket) -> int:
    """A close-on-exec copy of `sock`'s descriptor numbered 3 or more, `sock` itself closed."""
    import fcntl

    try:
        return fcntl.fcntl(sock.fileno(), fcntl.F_DUPFD_CLOEXEC, 3)
    finally:
        sock.close()


def _popen(args: list[str], *, listener: socket.socket, **kwargs: Any) -> subprocess.Popen[Any]:
    """Prefect's uvicorn command, serving on `listener` (uvicorn's --fd wins over the host and port Prefect names,
    which are the listener's own)."""
    return subprocess.Popen([*args, "--fd", str(listener.fileno())], pass_fds=(listener.fileno(),), **kwargs)


def _check_room_for(home: Path) -> None:
    """Prefect's folder may be on another disk than the data folder (PREFECT_HOME set): on a full one its server
    hung at start, with nothing in its log, and the run waited two minutes to say "still starting" (resources QA)."""
    from flows.crawl import check_room  # it imports this module

    check_room(home, what="Prefect's folder: its run history")


def stop_with_parent(parent: int) -> Any:
    """A Popen preexec_fn: on Linux the child gets SIGTERM when the thread that started it ends (its process
    killed with -9 included), so a server outlives no run; None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork: the child only calls it

    def arm() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the line above took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return arm
