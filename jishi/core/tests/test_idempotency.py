from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, transaction

from jishi.accounts.models import Address
from jishi.testing.shop import ADDRESS_BODY

pytestmark = pytest.mark.django_db


def test_replay_returns_the_first_response_and_writes_once(buyer_api: Any) -> None:
    first = buyer_api.post("addresses", ADDRESS_BODY, headers={"Idempotency-Key": "k-1"})
    second = buyer_api.post("addresses", ADDRESS_BODY, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Address.objects.count() == 1


def test_same_key_with_a_different_body_is_422(buyer_api: Any) -> None:
    buyer_api.post("addresses", ADDRESS_BODY, headers={"Idempotency-Key": "k-2"})
    other = buyer_api.post("addresses", {**ADDRESS_BODY, "detail": "别处"}, headers={"Idempotency-Key": "k-2"})
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert Address.objects.count() == 1


def test_keys_are_scoped_per_caller(buyer_api: Any, other_buyer_api: Any) -> None:
    buyer_api.post("addresses", ADDRESS_BODY, headers={"Idempotency-Key": "shared"})
    other = other_buyer_api.post("addresses", ADDRESS_BODY, headers={"Idempotency-Key": "shared"})
    assert other.status_code == 201
    assert Address.objects.count() == 2


def test_without_a_key_every_post_acts(buyer_api: Any) -> None:
    buyer_api.post("addresses", ADDRESS_BODY)
    buyer_api.post("addresses", ADDRESS_BODY)
    assert Address.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_make_one_effect(buyer_api: Any) -> None:
    from conftest import Api

    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def send() -> None:
        try:
            client = Api(buyer_api.token)
            barrier.wait()
            statuses.append(client.post("addresses", ADDRESS_BODY, headers={"Idempotency-Key": "race"}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Address.objects.count() == 1
    assert statuses.count(201) == 6


def _server_error_client(token: str) -> Any:
    """As a real client sees it: a view's exception is a 500 answer, not a raised error."""
    from django.test import Client

    from conftest import Api

    client = Api(token)
    client.client = Client(raise_request_exception=False)
    return client


def _save_then_fail(real: Any) -> Any:
    def save(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        raise RuntimeError("the process failed after the address was committed")

    return save


def _fail_inside_the_transaction(real: Any) -> Any:
    def save(*args: Any, **kwargs: Any) -> Any:
        with transaction.atomic():
            real(*args, **kwargs)
            raise RuntimeError("the transaction rolled back: nothing was kept")

    return save


def _fail_first(real: Any) -> Any:
    def save(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("failed before writing anything")

    return save


# A 5xx after a commit cannot be told apart from a success the client never heard of: the
# key must not run the request again. These need real commits, so a transactional database.
@pytest.mark.django_db(transaction=True)
def test_a_retry_after_a_5xx_that_followed_a_commit_is_refused_and_writes_nothing(
    buyer_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jishi.accounts import services

    client = _server_error_client(buyer_api.token)
    real = services.save_address
    monkeypatch.setattr(services, "save_address", _save_then_fail(real))
    first = client.post("addresses", ADDRESS_BODY, headers={"Idempotency-Key": "after-commit"})
    monkeypatch.setattr(services, "save_address", real)

    retry = client.post("addresses", ADDRESS_BODY, headers={"Idempotency-Key": "after-commit"})

    assert first.status_code == 500
    assert retry.status_code == 409
    assert retry.json()["error"]["code"] == "idempotency_unknown"
    assert retry["Idempotent-Replayed"] == "true"
    assert Address.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("failure", [_fail_first, _fail_inside_the_transaction])
def test_a_retry_after_a_5xx_that_committed_nothing_runs_once(
    buyer_api: Any, monkeypatch: pytest.MonkeyPatch, failure: Any
) -> None:
    from jishi.accounts import services

    client = _server_error_client(buyer_api.token)
    real = services.save_address
    monkeypatch.setattr(services, "save_address", failure(real))
    first = client.post("addresses", ADDRESS_BODY, headers={"Idempotency-Key": "nothing-kept"})
    monkeypatch.setattr(services, "save_address", real)

    retry = client.post("addresses", ADDRESS_BODY, headers={"Idempotency-Key": "nothing-kept"})

    assert first.status_code == 500
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert Address.objects.count() == 1
