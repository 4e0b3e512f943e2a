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


def _unbounded_integers(node: Any, where: str, components: dict[str, Any], seen: set[str]) -> list[str]:
    """Every integer in ``node`` (following $refs) without both bounds inside 64 bits."""
    found: list[str] = []
    if isinstance(node, list):
        for i, item in enumerate(node):
            found += _unbounded_integers(item, f"{where}[{i}]", components, seen)
        return found
    if not isinstance(node, dict):
        return found
    ref = node.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[1]
        if name not in seen:
            seen.add(name)
            found += _unbounded_integers(components[name], name, components, seen)
        return found
    if node.get("type") == "integer":
        low, high = node.get("minimum"), node.get("maximum")
        if low is None or high is None or low < -(2**63) or high > 2**63 - 1:
            found.append(where)
    for key, value in node.items():
        if key not in ("example", "examples", "default"):
            found += _unbounded_integers(value, f"{where}.{key}", components, seen)
    return found


def test_every_integer_the_api_accepts_is_bounded_in_its_schema() -> None:
    """Ids, offsets, limits, amounts and list entries: the schema says what validation enforces."""
    from jishi.api import api

    document = api.get_openapi_schema()
    components = document["components"]["schemas"]
    unbounded: list[str] = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                unbounded += _unbounded_integers(parameter["schema"], f"{where} {parameter['name']}", components, set())
            body = operation.get("requestBody", {})
            unbounded += _unbounded_integers(body, f"{where} body", components, set())

    assert unbounded == []


def _property(document: dict[str, Any], component: str, name: str) -> dict[str, Any]:
    prop = document["components"]["schemas"][component]["properties"][name]
    return next((s for s in prop.get("anyOf", []) if s.get("type") != "null"), prop)


@pytest.mark.parametrize(
    ("component", "name", "key", "value"),
    [
        ("SmsCodeIn", "phone", "pattern", r"^\s*(\+ *8 *6)? *1 *[3-9]( *[0-9]){9}\s*$"),
        ("SmsLoginIn", "phone", "pattern", r"^\s*(\+ *8 *6)? *1 *[3-9]( *[0-9]){9}\s*$"),
        ("RegisterIn", "phone", "pattern", r"^\s*(\+ *8 *6)? *1 *[3-9]( *[0-9]){9}\s*$"),
        ("LoginIn", "phone", "pattern", r"^\s*(\+ *8 *6)? *1 *[3-9]( *[0-9]){9}\s*$"),
        ("LoginIn", "username", "minLength", 1),
        ("CheckoutIn", "lines", "minItems", 1),
        ("OrderIn", "lines", "minItems", 1),
        ("RejectIn", "reason", "pattern", r"\S"),
        ("AdjustIn", "amount", "not", {"const": 0}),
    ],
)
def test_schema_says_what_validation_enforces(component: str, name: str, key: str, value: Any) -> None:
    """Fields schemathesis found looser in the schema than in validation (valid data refused)."""
    from jishi.api import api

    assert _property(api.get_openapi_schema(), component, name)[key] == value


def test_login_needs_a_phone_or_a_user_name_in_the_schema() -> None:
    from jishi.api import api

    login = api.get_openapi_schema()["components"]["schemas"]["LoginIn"]

    assert login["anyOf"] == [
        {"required": ["phone"], "properties": {"phone": {"type": "string"}}},
        {"required": ["username"], "properties": {"username": {"type": "string"}}},
    ]
