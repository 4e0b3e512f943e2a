"""Operator API for store slots and hours: times of day are the shop's wall clock, never offset."""

from __future__ import annotations

from typing import Any

import pytest

from jishi.retail.models import DeliverySlot
from jishi.retail.testing import make_store

pytestmark = pytest.mark.django_db


def test_a_slot_is_created_with_local_times(operator_api: Any) -> None:
    store = make_store()
    body = {"date": "2026-12-02", "starts": "18:00", "ends": "19:00", "capacity": 20}
    r = operator_api.post(f"admin/retail/stores/{store.pk}/slots", body)
    assert r.status_code == 201, r.json()
    assert (r.json()["starts"], r.json()["ends"], r.json()["capacity"]) == ("18:00:00", "19:00:00", 20)


@pytest.mark.parametrize("starts", ["01:37:16Z", "18:00+08:00"])
def test_a_time_with_an_offset_is_a_422_and_nothing_is_written(operator_api: Any, starts: str) -> None:
    store = make_store()
    body = {"date": "2026-12-02", "starts": starts, "ends": "19:00", "capacity": 20}
    r = operator_api.post(f"admin/retail/stores/{store.pk}/slots", body)
    assert r.status_code == 422
    assert r.json()["error"]["fields"]
    assert not DeliverySlot.objects.exists()

    hours = {"hours": [{"weekday": 0, "opens": "09:00", "closes": starts}]}
    assert operator_api.put(f"admin/retail/stores/{store.pk}/hours", hours).status_code == 422
    holiday = {"date": "2026-12-25", "opens": starts, "closes": "20:00"}
    assert operator_api.post(f"admin/retail/stores/{store.pk}/holidays", holiday).status_code == 422
