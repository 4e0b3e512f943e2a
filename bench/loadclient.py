"""The benchmarks' load tools: a fresh database, a gunicorn under test, a keep-alive asyncio client.

Used by ``flash_sale.py`` and ``red_packet.py`` (run from the repository root as
``.venv/bin/python bench/<name>.py``; this folder is on ``sys.path`` then).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]

Request = tuple[str, str, dict[str, str], bytes]  # method, path, headers, body


def say(text: str) -> None:
    print(text, flush=True)


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def server_env(database_url: str, data_dir: str, **extra: str) -> dict[str, str]:
    """The environment of a production-like server on ``database_url``: debug off, a secret key
    of the benchmark's own (a production server refuses the development key), no Redis unless
    ``extra`` names one, errors-only logging (thousands of refusals would each log a warning)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "jishi.settings",
        "DATABASE_URL": database_url,
        "JISHI_DATA_DIR": data_dir,
        "JISHI_DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "jishi-bench-secret-key-" + "x" * 32,
        "JISHI_LOG_LEVEL": "ERROR",
    }
    env.pop("REDIS_URL", None)
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(env: dict[str, str], data_dir: str, workers: int, threads: int) -> Iterator[int]:
    """Serve Jishi with ``-k gthread`` on a free port until the block ends; yields the port once
    ``/readyz`` answers. Its log goes to ``<data_dir>/gunicorn.log``."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "jishi.wsgi", "-k", "gthread", "-w", str(workers)]
    command += ["--threads", str(threads), "-b", f"127.0.0.1:{port}", "--keep-alive", "30", "--log-level", "warning"]
    with open(Path(data_dir) / "gunicorn.log", "w") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, stderr=log)
        try:
            for _ in range(100):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    time.sleep(0.2)
            else:
                raise RuntimeError(f"gunicorn did not become ready (see {log.name})")
            yield port
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


# --- a small keep-alive HTTP/1.1 client ------------------------------------------------------


class Conn:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> int:
        for attempt in range(2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(body)}"]
            head += [f"{k}: {v}" for k, v in headers.items()]
            self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
            try:
                await self.writer.drain()
                assert self.reader is not None
                status_line = await self.reader.readline()
                if not status_line:
                    raise ConnectionResetError
                status = int(status_line.split()[1])
                length, close = 0, False
                while True:
                    line = await self.reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                    elif name.lower() == "connection" and value.strip().lower() == "close":
                        close = True
                await self.reader.readexactly(length)
                if close:
                    self.close()
                return status
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Fired(NamedTuple):
    seconds: float
    latencies: list[float]  # seconds, in completion order
    statuses: Counter[int]
    by_status: dict[int, list[float]]  # the latencies of each status's answers


async def fire(host: str, port: int, requests: list[Request], concurrency: int) -> Fired:
    """Send ``requests`` over ``concurrency`` keep-alive connections, each taking the next in turn."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    by_status: dict[int, list[float]] = {}
    queue = iter(requests)

    async def worker() -> None:
        conn = Conn(host, port)
        for method, path, headers, body in queue:
            started = time.perf_counter()
            try:
                status = await conn.request(method, path, headers, body)
            except Exception as exc:
                if os.environ.get("BENCH_DEBUG"):
                    say(f"request failed: {exc!r}")
                status = 599
            took = time.perf_counter() - started
            latencies.append(took)
            statuses[status] += 1
            by_status.setdefault(status, []).append(took)
        conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Fired(time.perf_counter() - started, latencies, statuses, by_status)


def fire_all(port: int, requests: list[Request], concurrency: int) -> Fired:
    """``fire`` at the local server from a fresh event loop."""
    return asyncio.run(fire("127.0.0.1", port, requests, concurrency))


def pct(values: list[float], p: float) -> float:
    """The ``p`` quantile of latencies in seconds, in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000
