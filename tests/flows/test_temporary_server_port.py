"""The port of Prefect's temporary server is this command's alone.

Prefect picks a random free port and its uvicorn binds it seconds later. In CI two runs started together picked the
same one: the second took the first's server for its own, because it answered /health, recorded its run there, and
ended in "Flow run ... not found" once that server had gone and a third had taken the port.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_script(script: str, data: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`script` in a Python process of its own (Prefect keeps one temporary server a process), `data` its argument."""
    return subprocess.run([sys.executable, "-c", script, str(data)], capture_output=True, text=True, timeout=180,
                          env={**os.environ, **env})


IMPOSTOR = r'''
import sys, threading, urllib.error, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from prefect.server.api import server as prefect_server
from flows.settings import configure

configure(sys.argv[1])

class Impostor(BaseHTTPRequestHandler):  # another command's server: healthy, and not ours
    def do_GET(self):
        self.send_response(200 if self.path == "/api/health" else 404)
        self.end_headers()
        self.wfile.write(b"true")

    def log_message(self, *args):
        pass

free = prefect_server.SubprocessASGIServer.is_port_available

def taken_just_after_the_check(port):
    if not free(port):
        return False
    impostor = ThreadingHTTPServer(("127.0.0.1", port), Impostor)
    threading.Thread(target=impostor.serve_forever, daemon=True).start()
    return True

prefect_server.SubprocessASGIServer.is_port_available = staticmethod(taken_just_after_the_check)
spawn = prefect_server.SubprocessASGIServer._run_uvicorn_command

def taken_just_before_the_server_starts(self):
    try:  # the port chosen must still be held when uvicorn is about to take it
        impostor = ThreadingHTTPServer(("127.0.0.1", self.port), Impostor)
    except OSError:
        pass
    else:
        threading.Thread(target=impostor.serve_forever, daemon=True).start()
    return spawn(self)

prefect_server.SubprocessASGIServer._run_uvicorn_command = taken_just_before_the_server_starts

from flows.prefect_server import start_temporary_server

start_temporary_server()
api = prefect_server.SubprocessASGIServer().api_url
try:
    with urllib.request.urlopen(f"{api}/admin/version", timeout=10) as answer:
        print(answer.status)
except urllib.error.HTTPError as exc:
    print(exc.code)
'''


def test_a_port_another_process_takes_while_the_server_starts_is_not_taken_for_ours(tmp_path: Path) -> None:
    done = run_script(IMPOSTOR, tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["200"], "the run's API calls went to another process's server"


DIRECT_FLOW = r'''
import os, sys
from flows.settings import configure

configure(sys.argv[1])
from prefect import flow
from prefect.server.api import server as prefect_server
from flows.prefect_server import server_log, temporary_server

temporary_server()  # as tests/conftest.py does for the flows the tests call directly

@flow
def answer():
    return 42

print(answer())
server = prefect_server.SubprocessASGIServer()
process = server.server_process
print("--fd" in process.args, os.getsid(process.pid) == process.pid, server_log().exists())
'''


def test_a_flow_called_directly_starts_the_temporary_server_on_a_port_of_its_own_in_its_own_session(
        tmp_path: Path) -> None:
    # The flows the tests call directly (no start_temporary_server first) left the port to Prefect, and the race
    # above to chance (flakiness QA).
    done = run_script(DIRECT_FLOW, tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["42", "True", "True", "True"]


IN_A_THREAD = r'''
import sys, threading
from flows.settings import configure

configure(sys.argv[1])
from prefect import flow
from flows.prefect_server import temporary_server

temporary_server()

@flow
def answer():
    return 1

first = threading.Thread(target=answer)  # the first flow, in a thread that then ends
first.start()
first.join()
print(answer())
'''


def test_a_server_prefect_starts_from_a_thread_outlives_that_thread(tmp_path: Path) -> None:
    # Told to stop when the thread that started it ended, it was gone for the next flow (review).
    done = run_script(IN_A_THREAD, tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1"]


OUTPUT_CLOSED = r'''
import os, sys
os.close(1)  # started with its standard output closed, as `cmd >&-` in a crontab
from flows.settings import configure

configure(sys.argv[1])
from flows.prefect_server import start_temporary_server

start_temporary_server()
sys.stderr.write("started\n")
'''


def test_the_server_starts_for_a_command_whose_standard_output_is_closed(tmp_path: Path) -> None:
    # The held port took descriptor 1, which the child's log then replaced: uvicorn served "on" the log file, and
    # the command waited out the start-up time to call it a failed start (review).
    done = run_script(OUTPUT_CLOSED, tmp_path / "data", PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="60")
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1:] == ["started"]


def test_the_held_port_answers_without_waiting_for_delayed_acks() -> None:
    # uvicorn takes an --fd socket for AF_UNIX and asyncio then leaves Nagle's algorithm on: every answer of the
    # server waited ~40 ms for the client's delayed ACK (review). The option set on the held socket is inherited.
    import socket

    from flows.prefect_server import temporary_server

    server = temporary_server()
    held = type(server).__new__(type(server), port=-1)  # an instance of the class that is not Prefect's server
    try:
        held.find_available_port()
        assert held.listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert held.listener.fileno() >= 3
    finally:
        held.close_listener()
        type(server)._instances.pop(-1, None)


STARTED = r'''
import sys
from flows.settings import configure

configure(sys.argv[1])
from flows.prefect_server import start_temporary_server

start_temporary_server()
'''


def test_a_run_does_not_empty_the_log_a_live_server_of_its_folder_writes(tmp_path: Path) -> None:
    # A run in a folder `reviews serve` serves emptied the log of serve's server, which went on writing it
    # (concurrency QA). A server's log is locked while it lives; a run's own start empties only a free one.
    import fcntl

    home = tmp_path / "data" / ".prefect"
    home.mkdir(parents=True)
    log = home / "server.log"
    with log.open("ab") as live:  # the live server's output
        fcntl.flock(live.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        live.write(b"serve's server: started\n")
        live.flush()
        done = run_script(STARTED, tmp_path / "data", PREFECT_HOME=str(home))
        assert done.returncode == 0, done.stderr
        assert log.read_bytes().startswith(b"serve's server: started\n")
    done = run_script(STARTED, tmp_path / "data", PREFECT_HOME=str(home))
    assert done.returncode == 0, done.stderr
    assert b"serve's server" not in log.read_bytes()  # free again: the last start's output only


def test_a_log_is_emptied_only_when_no_server_that_started_on_it_still_writes(tmp_path: Path) -> None:
    # A server that started while another wrote the log never held the lock: once the first ended, the next start
    # emptied the log the second still wrote (verification QA).
    from flows.prefect_server import server_log_file

    path = tmp_path / "server.log"
    first = server_log_file(path, fresh=True)
    first.write(b"first\n")
    first.flush()
    second = server_log_file(path, fresh=True)
    second.write(b"second, still running\n")
    second.flush()
    first.close()
    third = server_log_file(path, fresh=True)
    assert path.read_bytes() == b"first\nsecond, still running\n"
    second.close()
    third.close()
    server_log_file(path, fresh=True).close()
    assert path.read_bytes() == b""
