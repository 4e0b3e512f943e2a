"""Run Jishi code in a child process against the test database (kill tests, servers)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from django.db import connection


def child_env(**extra: str) -> dict[str, str]:
    """Environment for a child process that talks to the same database as this test."""
    env = dict(os.environ)
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        env.pop("DATABASE_URL", None)
        env["JISHI_SQLITE_PATH"] = str(db["NAME"])
    else:
        user = db.get("USER") or "postgres"
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        env["DATABASE_URL"] = f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"
    env.update(extra)
    return env


def spawn_python(code: str, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", code],
        env=kwargs.pop("env", None) or child_env(),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **kwargs,
    )
