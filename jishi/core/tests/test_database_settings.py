"""Every SQLite database gets WAL, IMMEDIATE write transactions and a busy timeout, however named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from jishi.settings import SQLITE_OPTIONS, database_config


@pytest.mark.parametrize("url", ["", "sqlite:////srv/jishi/shop.sqlite3"])
def test_sqlite_database_carries_the_concurrency_options(url: str) -> None:
    db = database_config(url, "/srv/jishi/shop.sqlite3")

    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == "/srv/jishi/shop.sqlite3"
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert db["OPTIONS"]["timeout"] == 30
    assert db["OPTIONS"]["init_command"] == (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;"
    )
    assert db["TEST"] == {"NAME": "/srv/jishi/test-shop.sqlite3"}


def test_postgres_url_gets_no_sqlite_options() -> None:
    db = database_config("postgres://shop@db.internal:5432/jishi", "/unused.sqlite3")

    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert db["NAME"] == "jishi"
    assert not set(db["OPTIONS"]) & set(SQLITE_OPTIONS)


# Eight threads each read a counter and write it back, twenty times, in transactions: a
# DEFERRED transaction that read cannot take the write lock while another holds it, and
# SQLite answers "database is locked" at once instead of waiting.
CONCURRENT_WRITES = """
import json, threading, time
import django
django.setup()
from django.db import connection, transaction

with connection.cursor() as c:
    c.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    c.execute("INSERT INTO counter VALUES (1, 0)")
connection.close()
errors = []
barrier = threading.Barrier(8)

def work():
    try:
        barrier.wait()
        for _ in range(20):
            with transaction.atomic(), connection.cursor() as c:
                c.execute("SELECT n FROM counter WHERE id = 1")
                n = c.fetchone()[0]
                time.sleep(0.001)
                c.execute("UPDATE counter SET n = %s WHERE id = 1", [n + 1])
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connection.close()

threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with connection.cursor() as c:
    c.execute("SELECT n FROM counter WHERE id = 1")
    print(json.dumps({"n": c.fetchone()[0], "errors": errors}))
"""


def test_concurrent_writes_on_a_sqlite_url_never_see_database_is_locked(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "jishi.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shop.sqlite3'}",
        "JISHI_DATA_DIR": str(tmp_path),
        "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
    }
    done = subprocess.run(
        [sys.executable, "-c", CONCURRENT_WRITES], env=env, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"n": 160, "errors": []}
