"""The web server and Huey worker as child processes: ports, readiness, clean shutdown."""

from __future__ import annotations

import atexit
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

DEFAULT_PORT = 8000
PORT_ATTEMPTS = 50
READY_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 8.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Loaded before any fork: the child between fork and exec should only make the one call.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def signal_on_parent_death(signum: int = signal.SIGTERM) -> None:
    """Ask Linux to send ``signum`` to this process when its parent dies, even by SIGKILL.

    Elsewhere (no prctl) the signal handlers and atexit of the parent are all there is.
    """
    if _LIBC is not None and _LIBC.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def _child_preexec(parent_pid: int) -> Callable[[], None]:
    def preexec() -> None:
        signal_on_parent_death()
        if os.getppid() != parent_pid:  # the parent died before the request took effect
            os._exit(1)

    return preexec


def port_is_free(host: str, port: int) -> bool:
    """Whether a listener could bind ``host:port`` (with SO_REUSEADDR, as gunicorn binds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def choose_port(host: str, preferred: int | None = None) -> int:
    """``preferred`` (else ``JISHI_PORT``, else 8000), or the next free port above it."""
    start = preferred or int(os.environ.get("JISHI_PORT") or DEFAULT_PORT)
    for port in range(start, min(start + PORT_ATTEMPTS, 65536)):
        if port_is_free(host, port):
            return port
    raise OSError(f"no free port in {start}–{start + PORT_ATTEMPTS - 1}")


def display_host(host: str) -> str:
    return "127.0.0.1" if host in {"0.0.0.0", ""} else host  # noqa: S104 - comparing, not binding


def gunicorn_command(host: str, port: int, workers: int = 2, threads: int = 4) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "jishi.wsgi:application",
        "-b",
        f"{host}:{port}",
        "-w",
        str(workers),
        "--threads",
        str(threads),
        # Ctrl-C should not wait gunicorn's default 30 s for idle keep-alive connections.
        "--graceful-timeout",
        "5",
        # gunicorn 27 otherwise binds one control socket per user, shared by every instance.
        "--no-control-socket",
    ]


def worker_command() -> list[str]:
    return [sys.executable, "-m", "jishi.cli", "worker"]


def child_environment() -> dict[str, str]:
    """This environment, with the directory holding this ``jishi`` first on the import path.

    Children then import the same code as this process whatever their working directory.
    """
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != root]
    env["PYTHONPATH"] = os.pathsep.join([root, *paths])
    return env


class Supervisor:
    """Runs named children until a signal arrives or one of them exits, then stops them all.

    Children get their own process group, so a terminal's Ctrl-C reaches only this
    process, which forwards SIGTERM once to each child and kills any that linger. However
    this process ends they follow it: SIGTERM, SIGINT and SIGHUP stop them, so does a normal
    exit (atexit), and the kernel sends them SIGTERM if this process is killed outright.
    """

    def __init__(self, commands: dict[str, list[str]], out: Any = None) -> None:
        self.commands = commands
        self.out = out if out is not None else sys.stdout
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.stopping = threading.Event()
        self.failed: str | None = None

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        flush = getattr(self.out, "flush", None)
        if callable(flush):
            flush()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping.is_set():
            # a second Ctrl-C: stop waiting for a graceful exit
            for child in self.children.values():
                if child.poll() is None:
                    child.kill()
        self.stopping.set()

    def start(self) -> None:
        env = child_environment()
        atexit.register(self.stop)
        preexec = _child_preexec(os.getpid())
        for name, command in self.commands.items():
            self.children[name] = subprocess.Popen(  # noqa: S603
                command, env=env, process_group=0, preexec_fn=preexec
            )

    def _check_children(self) -> None:
        for name, child in self.children.items():
            code = child.poll()
            if code is not None and not self.stopping.is_set():
                self.failed = f"{name} exited with code {code}"
                self.stopping.set()

    def wait_ready(self, url: str, timeout: float = READY_TIMEOUT_SECONDS) -> bool:
        deadline = time.monotonic() + timeout
        while not self.stopping.is_set() and time.monotonic() < deadline:
            self._check_children()
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - http only
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            self.stopping.wait(0.25)
        if not self.stopping.is_set():
            self.failed = f"no answer from {url} within {timeout:.0f}s"
        return False

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """SIGTERM to every running child, SIGKILL to any still running after ``timeout``."""
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in self.children.values():
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def run(self, ready_url: str, on_ready: Callable[[], None]) -> str | None:
        """Start, announce once ``ready_url`` answers, supervise; the failure reason or None."""
        handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in handled}
        try:
            self.start()
            if self.wait_ready(ready_url):
                on_ready()
                while not self.stopping.is_set():
                    self._check_children()
                    self.stopping.wait(0.5)
            self.say("stopping …")
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return self.failed
