"""Fixtures shared by the whole suite."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from django.test import Client

from jishi.accounts.services import issue_token
from jishi.testing.factories import OperatorFactory, UserFactory

# Under pytest-xdist each worker has its own databases (pytest-django suffixes their names) and
# its own Redis database, so flash-sale gates and rate limits of two workers never meet.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw") and _worker[2:].isdigit():
    _base = os.environ.get("JISHI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    _root, _sep, _db = _base.rpartition("/")
    if _db.isdigit():
        os.environ["JISHI_TEST_REDIS_URL"] = f"{_root}/{(int(_db) - int(_worker[2:])) % 16}"

# The suite runs as a demo install does: sandbox payments on, a secret key of its own (the
# development key would make every server the tests start refuse to). Settings are loaded
# before this file, so they are set there too; child processes inherit the environment.
TEST_SECRET_KEY = "jishi-test-suite-secret-key-" + "x" * 24
os.environ.update(JISHI_DEMO="1", JISHI_SANDBOX_PAYMENTS="1", SECRET_KEY=os.environ.get("SECRET_KEY") or TEST_SECRET_KEY)


def _run_as_a_demo() -> None:
    from django.conf import settings

    settings.JISHI_DEMO = True
    settings.SECRET_KEY = os.environ["SECRET_KEY"]
    settings.JISHI_PAYMENTS["SANDBOX"]["ENABLED"] = True


_run_as_a_demo()


@pytest.fixture(autouse=True)
def _fast_hasher_and_immediate_tasks(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(settings.DATA_DIR / "test-media")
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    from jishi.core import local_cache

    local_cache.clear_all()  # a cached rules row must not leak from one test's database into the next
    from django.core.cache import cache

    cache.clear()


class Api:
    """A JSON client for /api/v1 with an optional bearer token."""

    def __init__(self, token: str | None = None) -> None:
        self.client = Client()
        self.token = token

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out = dict(headers or {})
        if self.token:
            out["Authorization"] = f"Bearer {self.token}"
        return out

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, **extra: Any
    ) -> Any:
        url = path if path.startswith("/") else f"/api/v1/{path}"
        kwargs: dict[str, Any] = {"headers": self._headers(headers)}
        if body is not None:
            kwargs["data"] = body if isinstance(body, str | bytes) else json.dumps(body)
            kwargs["content_type"] = "application/json"
        kwargs.update(extra)
        return getattr(self.client, method)(url, **kwargs)

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("get", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("post", path, body if body is not None else {}, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("put", path, body if body is not None else {}, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("delete", path, **kw)


@pytest.fixture
def api() -> Api:
    return Api()


@pytest.fixture
def buyer(db: Any) -> Any:
    return UserFactory()


@pytest.fixture
def buyer_api(buyer: Any) -> Api:
    return Api(issue_token(buyer))


@pytest.fixture
def other_buyer_api(db: Any) -> Api:
    return Api(issue_token(UserFactory()))


@pytest.fixture
def operator(db: Any) -> Any:
    return OperatorFactory()


@pytest.fixture
def operator_api(operator: Any) -> Api:
    return Api(issue_token(operator))


@pytest.fixture
def is_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


@pytest.fixture
def redis_url() -> str:
    """Redis is part of the test environment: unreachable Redis fails, never skips."""
    url = os.environ.get("JISHI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    import redis

    redis.Redis.from_url(url).ping()
    return url


@pytest.fixture
def frozen_rate_window(monkeypatch: pytest.MonkeyPatch) -> float:
    """Rate limits count in fixed windows: a test that counts hits must not straddle a window's end."""
    import time
    from types import SimpleNamespace

    from jishi.core import ratelimit

    now = float(int(time.time()))
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: now))
    return now
