"""Schemathesis from the command line against a served demo, as an outsider would fuzz it.

``python -m jishi.testing.served_fuzz [--database-url URL] [--seconds N]`` seeds a fresh demo
(SQLite in a temporary directory, or a fresh PostgreSQL database named after ``--database-url``
with ``_served_fuzz`` appended), serves it with ``jishi demo`` on a free port, logs in a buyer
and the operator, and runs ``schemathesis run`` for ``--seconds`` with each token. Any 5xx
fails the run (exit 1). ``--checks`` adds checks to look at, e.g. ``positive_data_acceptance``
finds operations whose schema is looser than their validation.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
START_TIMEOUT_SECONDS = 300
SERVER_WARNINGS_SHOWN = 60
# Revoking the fuzzer's own token would turn every later case into a 401.
EXCLUDED_PATHS = ["/api/v1/auth/logout"]
BUYER = "13800000001"
OPERATOR = "admin"
PASSWORD = "jishi-demo"


def say(text: str) -> None:
    print(f"[served-fuzz] {text}", flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """A new empty PostgreSQL database beside ``url``'s (dropped after), or "" for SQLite."""
    if not url:
        yield ""
        return
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'jishi'}_served_fuzz"
    admin = urlunsplit(parts._replace(path="/postgres"))

    def run(sql: str) -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql)

    run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    run(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def served_demo(database_url: str, data_dir: str) -> Iterator[str]:
    """``jishi demo`` on a free port until the block ends; yields its base URL."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"}}
    env.update(
        JISHI_DATA_DIR=data_dir,
        JISHI_PORT=str(_free_port()),
        JISHI_DEMO="1",
        JISHI_FAST_PASSWORD_HASHER="1",  # 21 demo accounts need not pay for argon2 here
        JISHI_LOGIN_ATTEMPTS_PER_10_MIN="100000",  # the fuzzer logs in far more than a person
        PYTHONPATH=str(REPO_ROOT),
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    proc = subprocess.Popen(
        [sys.executable, "-m", "jishi.cli", "demo", "--workers", "2"],
        cwd=data_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        process_group=0,
    )
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []

    def pump() -> None:
        for line in proc.stdout or ():
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        base = None
        while base is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            output.append(line)
            found = re.search(r"storefront\s+(http://[\d.]+:\d+)/", line)
            base = found.group(1) if found else None
        if base is None:
            raise RuntimeError("the demo did not start:\n" + "".join(output))
        yield base
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        while not lines.empty():
            output.append(lines.get())
        log = "".join(output)
        if "Traceback" in log:
            say("server log (tracebacks):\n" + log)
        else:  # what the server warned of: why a 502 was answered (a network's refusal, an outage)
            warned = [line for line in output if "WARNING" in line or "ERROR" in line]
            if warned:
                say(
                    f"server log ({len(warned)} warnings, the last {SERVER_WARNINGS_SHOWN}):\n"
                    + "".join(warned[-SERVER_WARNINGS_SHOWN:])
                )


def login(base: str, **credentials: str) -> str:
    body = json.dumps({**credentials, "password": PASSWORD}).encode()
    request = urllib.request.Request(  # noqa: S310 - a local http URL
        f"{base}/api/v1/auth/login", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return str(json.loads(response.read())["token"])


def fetch_schema(base: str, into: Path) -> Path:
    """The served OpenAPI document, fetched once with time to build it (slow on a busy machine)."""
    with urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=120) as response:  # noqa: S310
        into.write_bytes(response.read())
    return into


def fuzz_command(base: str, schema: Path, token: str, seconds: int, checks: str) -> list[str]:
    schemathesis = shutil.which("schemathesis", path=str(BIN)) or "schemathesis"
    command = [
        schemathesis,
        "run",
        str(schema),
        "--url",
        base,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        checks,
        "--max-time",
        str(seconds),
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        "--warnings",
        "off",
    ]
    for path in EXCLUDED_PATHS:
        command += ["--exclude-path", path]
    return command


def fuzz_all(base: str, tokens: dict[str, str], seconds: int, checks: str, log_dir: Path) -> dict[str, int]:
    """One schemathesis per token, at the same time; each one's report is printed after."""
    schema = fetch_schema(base, log_dir / "openapi.json")
    runs = {}
    for label, token in tokens.items():
        log = open(log_dir / f"{label}.log", "w")  # closed once the run ends
        say(f"{label}: schemathesis for {seconds}s, checks {checks}")
        command = fuzz_command(base, schema, token, seconds, checks)
        runs[label] = (subprocess.Popen(command, stdout=log, stderr=log, cwd=log_dir), log)  # noqa: S603
    codes = {}
    for label, (proc, log) in runs.items():
        codes[label] = proc.wait(timeout=seconds + 300)
        log.close()
        say(f"{label}: exit {codes[label]}\n" + (log_dir / f"{label}.log").read_text())
    return codes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="", help="PostgreSQL server and base name; default SQLite")
    parser.add_argument("--seconds", type=int, default=60, help="fuzzing time per token (buyer, operator)")
    parser.add_argument("--checks", default="not_a_server_error")
    args = parser.parse_args(argv)
    data_dir = tempfile.mkdtemp(prefix="jishi-served-fuzz-")
    started = time.monotonic()
    try:
        with fresh_database(args.database_url) as database_url, served_demo(database_url, data_dir) as base:
            say(f"demo serving at {base} after {time.monotonic() - started:.0f}s")
            tokens = {"buyer": login(base, phone=BUYER), "operator": login(base, username=OPERATOR)}
            codes = fuzz_all(base, tokens, args.seconds, args.checks, Path(data_dir))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    failed = [label for label, code in codes.items() if code != 0]
    say(f"done in {time.monotonic() - started:.0f}s; " + (f"FAILED: {', '.join(failed)}" if failed else "no 5xx"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
