"""Schemathesis fuzzes every operation in /api/v1/openapi.json: no 5xx, no schema violations."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from jishi.accounts.services import issue_token
from jishi.testing.factories import AdminFactory, CategoryFactory, SkuFactory
from jishi.wsgi import application

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = int(os.environ.get("JISHI_SCHEMATHESIS_EXAMPLES", "25"))


@pytest.fixture(autouse=True)
def _keep_test_connection() -> Iterator[None]:
    """As Django's test client does: requests must not close the test transaction's connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(db: Any) -> str:
    """An admin can reach every operation, so the fuzzer gets past authentication."""
    SkuFactory(stock=5, product__category=CategoryFactory())
    return issue_token(AdminFactory())


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_conforms_to_its_schema(case: Any, admin_token: str) -> None:
    if case.path == "/api/v1/auth/logout":
        return  # revoking the shared token would turn every later case into a 401
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"}, checks=CHECKS)


def test_schema_names_are_unique_across_apps() -> None:
    """OpenAPI components are keyed by class name: two apps' ``MeOut`` would silently merge."""
    import importlib
    import inspect
    import pkgutil

    from ninja import Schema

    import jishi

    seen: dict[str, str] = {}
    clashes = []
    for info in pkgutil.iter_modules(jishi.__path__):
        try:
            module = importlib.import_module(f"jishi.{info.name}.api")
        except ModuleNotFoundError:
            continue
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Schema) and obj.__module__ == module.__name__:
                if name in seen and seen[name] != module.__name__:
                    clashes.append(f"{name}: {seen[name]} and {module.__name__}")
                seen[name] = module.__name__
    assert clashes == []
