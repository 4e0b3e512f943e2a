"""A real shop (debug off) refuses to start with the sandbox provider on or the development key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from jishi.core.checks import production_settings, refuse_unsafe_production

REPO_ROOT = Path(__file__).resolve().parents[3]
SANDBOX_ON = {"SANDBOX": {"ENABLED": True}}
SANDBOX_OFF = {"SANDBOX": {"ENABLED": False}}
GOOD_KEY = "a-long-random-production-secret-key-0123456789"


@pytest.mark.parametrize(
    ("debug", "demo", "key", "payments", "expected"),
    [
        (False, False, GOOD_KEY, SANDBOX_OFF, []),
        (False, False, GOOD_KEY, SANDBOX_ON, ["jishi.E002"]),
        (False, False, "dev", SANDBOX_OFF, ["jishi.E001"]),
        (False, False, "dev", SANDBOX_ON, ["jishi.E001", "jishi.E002"]),
        (False, True, GOOD_KEY, SANDBOX_ON, []),
        (False, True, "dev", SANDBOX_ON, ["jishi.E001"]),
        (True, False, "dev", SANDBOX_ON, []),
    ],
)
def test_production_settings_name_each_problem(
    settings: Any, debug: bool, demo: bool, key: str, payments: dict[str, Any], expected: list[str]
) -> None:
    settings.DEBUG = debug
    settings.JISHI_DEMO = demo
    settings.SECRET_KEY = settings.DEV_SECRET_KEY if key == "dev" else key
    settings.JISHI_PAYMENTS = payments

    assert [problem.id for problem in production_settings()] == expected


def test_refusal_says_what_to_do(settings: Any) -> None:
    settings.DEBUG = False
    settings.JISHI_DEMO = False
    settings.SECRET_KEY = settings.DEV_SECRET_KEY
    settings.JISHI_PAYMENTS = SANDBOX_ON

    with pytest.raises(ImproperlyConfigured) as refused:
        refuse_unsafe_production()

    assert "jishi.E001: SECRET_KEY is the development key" in str(refused.value)
    assert "jishi.E002: The sandbox payment provider is on" in str(refused.value)
    assert "Unset JISHI_SANDBOX_PAYMENTS" in str(refused.value)


def _production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An install as an operator makes it: nothing of the test suite's demo settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"JISHI_DEMO", "JISHI_SANDBOX_PAYMENTS", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "JISHI_DEBUG"}
    }
    env.update(JISHI_DATA_DIR=str(tmp_path), PYTHONPATH=str(REPO_ROOT), DJANGO_SETTINGS_MODULE="jishi.settings")
    env.update(extra)
    return env


def _settings_of(env: dict[str, str]) -> dict[str, Any]:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({'sandbox': settings.JISHI_PAYMENTS['SANDBOX']['ENABLED'], 'key': settings.SECRET_KEY}))"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_sandbox_is_off_by_default_and_on_in_the_demo_with_a_key_of_its_own(tmp_path: Path) -> None:
    plain = _settings_of(_production_env(tmp_path))
    demo = _settings_of(_production_env(tmp_path, JISHI_DEMO="1"))
    demo_again = _settings_of(_production_env(tmp_path, JISHI_DEMO="1"))

    assert plain["sandbox"] is False
    assert demo["sandbox"] is True
    assert demo["key"] not in {plain["key"], ""}
    assert len(demo["key"]) >= 48
    assert demo_again["key"] == demo["key"]  # server and worker of one demo share it
    assert (tmp_path / "demo-secret-key").read_text() == demo["key"]


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "jishi.cli", "worker"],
        ["-m", "jishi.cli", "serve", "--port", "0"],
        ["-m", "gunicorn", "jishi.wsgi:application", "-b", "127.0.0.1:0", "--no-control-socket"],
    ],
    ids=["worker", "serve", "gunicorn"],
)
def test_server_and_worker_refuse_to_start_with_the_sandbox_or_the_development_key(
    tmp_path: Path, command: list[str]
) -> None:
    env = _production_env(tmp_path, JISHI_SANDBOX_PAYMENTS="1")

    done = subprocess.run([sys.executable, *command], env=env, capture_output=True, text=True, timeout=90)

    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "Jishi refuses to start with debug off" in output
    assert "jishi.E001: SECRET_KEY is the development key" in output
    assert "jishi.E002: The sandbox payment provider is on" in output
