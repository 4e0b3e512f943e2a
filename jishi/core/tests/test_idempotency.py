from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

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
