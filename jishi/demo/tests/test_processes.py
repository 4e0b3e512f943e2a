"""The demo's children (server, worker) stop with it, however it is stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]

# A supervisor as `jishi demo` runs one: two children in their own process groups, a ready
# URL (served here by a thread), then supervision until a signal arrives.
SUPERVISOR = """
import sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from jishi.demo.processes import Supervisor

class Ok(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers()
    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
threading.Thread(target=server.serve_forever, daemon=True).start()
child = [sys.executable, "-c", "import time; time.sleep(600)"]
supervisor = Supervisor({"server": child, "worker": child})
supervisor.run(
    f"http://127.0.0.1:{server.server_port}/",
    lambda: print("ready", *[c.pid for c in supervisor.children.values()], flush=True),
)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


def _wait_gone(pids: list[int], timeout: float = 20.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT)}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGKILL])
def test_children_stop_when_the_supervisor_is_stopped(signum: int) -> None:
    proc = subprocess.Popen([sys.executable, "-c", SUPERVISOR], env=_env(), stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("ready"), line
        children = [int(p) for p in line.split()[1:]]
        assert len(children) == 2
        assert all(_alive(p) for p in children)
        assert all(os.getpgid(p) == p for p in children)  # out of reach of a terminal's Ctrl-C

        proc.send_signal(signum)
        proc.wait(timeout=20)

        assert _wait_gone(children) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.timeout(120)
def test_gunicorn_stops_listening_when_jishi_serve_is_killed(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in _env().items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(JISHI_DATA_DIR=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "jishi.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = []
        for line in proc.stdout or ():
            output.append(line)
            if "Jishi is serving at" in line:
                break
        assert _listening(port), "".join(output)

        proc.kill()  # SIGKILL: no handler, no atexit; only the kernel can tell gunicorn
        proc.wait(timeout=10)

        deadline = time.monotonic() + 30
        while _listening(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _listening(port)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
