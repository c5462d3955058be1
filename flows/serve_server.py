"""The Prefect server `reviews serve` starts when PREFECT_API_URL names none: `prefect server start` as a child
process, with its SQLite database under the project's PREFECT_HOME, so the deployments and their runs outlive the
command. A module of its own: the temporary server of a single command is flows/prefect_server.py, and serve's
schedules are flows/serve.py.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from flows.errors import ReviewsError
from flows.prefect_server import healthy, server_log_file, stop_with_parent

DEFAULT_PORT = 4200
HOST = "127.0.0.1"
SERVER_LOG = "server.log"


@dataclass
class LocalServer:
    """A `prefect server start` child process that this process started and must stop."""

    process: subprocess.Popen[bytes]
    port: int
    home: Path
    log_path: Path
    _log_file: IO[bytes] | None = field(default=None, repr=False)

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the server and anything it spawned; safe to call twice.

        The child runs in its own process group (so a Ctrl-C in the terminal reaches only us, and we
        stop the server after the runner has paused the schedules), so the signal goes to that group.
        """
        if self.running():
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait(timeout=timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def start_local_server(home: Path, port: int = DEFAULT_PORT, timeout: float = 120.0) -> LocalServer:
    """Start `prefect server start` on 127.0.0.1:`port` with PREFECT_HOME=`home`; return once it answers.

    First start migrates the SQLite database, which takes 10-30 s on a small machine, hence the long
    timeout. The server's output goes to <home>/server.log, not the terminal; its tail is in the error
    when the server fails to come up.
    """
    home = Path(home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    api_url = f"http://{HOST}:{port}/api"
    if not _port_free(port):
        hint = (f"a Prefect server already answers there: use it with PREFECT_API_URL={api_url}"
                if healthy(api_url) else "stop whatever listens there")
        raise ReviewsError(f"cannot start the Prefect server: port {port} on {HOST} is in use ({hint}, "
                           "or choose another port)")
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)  # the server must not try to talk to another API
    env.update({"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_SERVER_API_HOST": HOST, "PREFECT_SERVER_API_PORT": str(port)})
    log_path = home / SERVER_LOG
    log_file = server_log_file(log_path, fresh=False)
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", HOST, "--port", str(port),
               "--analytics-off"]
    # Its own session, so a terminal's Ctrl-C reaches only us (we pause the schedules, then stop it), and told
    # to stop when we end however we end: a serve killed with -9 left it answering on the port.
    process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log_file,
                               stderr=subprocess.STDOUT, start_new_session=True,
                               preexec_fn=stop_with_parent(os.getpid()))
    server = LocalServer(process, port, home, log_path, log_file)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not server.running():
                tail = _log_tail(log_path)
                taken = (f" (port {port} was taken by another process while it started: start again, or choose "
                         "another port)" if "already in use" in tail.lower() else "")
                raise ReviewsError(f"the Prefect server exited with code {process.returncode} before it "
                                   f"answered{taken} (log: {log_path}):\n{tail}")
            if serves_home(api_url, home):
                return server
            time.sleep(0.5)
    except BaseException:  # includes Ctrl-C while waiting: never leave the child behind
        server.stop()
        raise
    server.stop()
    raise ReviewsError(f"the Prefect server did not answer on {api_url} within {timeout:.0f}s (log: {log_path}):\n"
                       f"{_log_tail(log_path)}")


def serves_home(api_url: str, home: Path) -> bool:
    """Whether the Prefect server answering at `api_url` is the one of PREFECT_HOME `home`. The port was free when
    checked, and the server binds it seconds later: another process's server that took it meanwhile answered
    /health too, and serve registered its schedules there (flakiness QA)."""
    try:
        with urllib.request.urlopen(f"{api_url}/admin/settings", timeout=2.0) as response:
            answered = json.load(response).get("home")
    except urllib.error.HTTPError as exc:  # a server behind PREFECT_SERVER_API_AUTH_STRING: its health must do
        return exc.code in (401, 403) and healthy(api_url)
    except (urllib.error.URLError, OSError, ValueError, AttributeError):
        return False
    return isinstance(answered, str) and Path(answered).resolve() == home


def prefect_home(root: Path) -> Path:
    """The project's PREFECT_HOME: the environment's (set by `configure`), else <data>/.prefect."""
    return Path(os.environ.get("PREFECT_HOME") or Path(root) / ".prefect")


def ensure_server(root: Path, port: int = DEFAULT_PORT) -> LocalServer | None:
    """Use the server PREFECT_API_URL names; without one, start a local server and point this process at it.

    Returns the started server (the caller stops it) or None when an existing server is used. Sets
    PREFECT_API_URL in os.environ so flow runs the runner starts as subprocesses talk to the same server.
    """
    if os.environ.get("PREFECT_API_URL"):
        return None
    server = start_local_server(prefect_home(root), port)
    os.environ["PREFECT_API_URL"] = server.api_url
    return server
