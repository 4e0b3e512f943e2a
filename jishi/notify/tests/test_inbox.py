"""The inbox: once-only notices, set-based writes, read marks and the pinned API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from jishi.accounts.services import issue_token
from jishi.notify import conf, services
from jishi.notify.models import Message
from jishi.testing.factories import UserFactory

pytestmark = pytest.mark.django_db

NOTICE = {"category": "order", "title": "订单已支付", "body": "我们正在备货", "link": "/orders/1"}


def test_notify_member_writes_one_message_per_key(buyer: Any) -> None:
    services.notify_member(buyer.pk, key="order-paid-1", **NOTICE)
    services.notify_member(buyer.pk, key="order-paid-1", **NOTICE)
    services.notify_member(buyer.pk, key="order-paid-2", **NOTICE)

    assert list(Message.objects.filter(user=buyer).order_by("id").values_list("key", flat=True)) == [
        "order-paid-1",
        "order-paid-2",
    ]


def test_notify_members_counts_rows_written_and_skips_repeats_and_strangers() -> None:
    a, b, c = UserFactory(), UserFactory(), UserFactory()
    services.notify_member(b.pk, key="k", **NOTICE)

    written = services.notify_members([a.pk, b.pk, c.pk, a.pk, 987654321], key="k", **NOTICE)

    assert written == 2
    assert Message.objects.filter(key="k").count() == 3


def test_notify_members_writes_in_batches(settings: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(conf, "INSERT_BATCH", 2)
    users = [UserFactory() for _ in range(5)]

    assert services.notify_members((u.pk for u in users), key="batch", **NOTICE) == 5
    assert Message.objects.filter(key="batch").count() == 5


def test_notify_members_with_no_members_writes_nothing() -> None:
    assert services.notify_members([], key="none", **NOTICE) == 0


def test_notices_roll_back_with_the_callers_transaction(buyer: Any) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        services.notify_member(buyer.pk, key="rolled-back", **NOTICE)
        raise RuntimeError

    assert not Message.objects.filter(user=buyer).exists()


@pytest.mark.parametrize(
    "change",
    [
        {"category": "spam"},
        {"title": ""},
        {"title": "x" * 101},
        {"link": "https://evil.example/"},
        {"key": ""},
        {"key": "k" * 121},
    ],
)
def test_a_malformed_notice_is_refused_and_writes_nothing(buyer: Any, change: dict[str, str]) -> None:
    notice = {**NOTICE, "key": "k", **change}
    with pytest.raises(ValueError):
        services.notify_member(buyer.pk, **notice)
    assert Message.objects.count() == 0


def test_inbox_lists_newest_first_with_the_unread_count(buyer: Any, buyer_api: Any) -> None:
    services.notify_member(buyer.pk, key="1", **NOTICE)
    services.notify_member(buyer.pk, key="2", **{**NOTICE, "category": "promotion", "title": "双十一"})
    services.notify_member(UserFactory().pk, key="1", **NOTICE)  # someone else's

    r = buyer_api.get("inbox")

    assert r.status_code == 200
    body = r.json()
    assert body["unread"] == 2
    assert [(i["title"], i["category"], i["read"]) for i in body["items"]] == [
        ("双十一", "promotion", False),
        ("订单已支付", "order", False),
    ]
    first = body["items"][1]
    assert set(first) == {"id", "category", "title", "body", "link", "read", "created_at"}
    assert (first["body"], first["link"]) == ("我们正在备货", "/orders/1")


def test_inbox_filters_by_category_and_pages(buyer: Any, buyer_api: Any) -> None:
    for n in range(3):
        services.notify_member(buyer.pk, key=f"o{n}", **{**NOTICE, "title": f"订单{n}"})
    services.notify_member(buyer.pk, key="p", **{**NOTICE, "category": "promotion"})

    r = buyer_api.get("inbox?category=order&limit=2&offset=1")

    assert [i["title"] for i in r.json()["items"]] == ["订单1", "订单0"]
    assert r.json()["unread"] == 4


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "category=spam", "limit=99999999999999999999"])
def test_inbox_refuses_bad_paging(buyer_api: Any, query: str) -> None:
    r = buyer_api.get(f"inbox?{query}")
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid"


def test_inbox_needs_a_login(api: Any) -> None:
    assert api.get("inbox").status_code == 401
    assert api.post("inbox/read-all").status_code == 401


def test_mark_one_read(buyer: Any, buyer_api: Any) -> None:
    services.notify_member(buyer.pk, key="1", **NOTICE)
    services.notify_member(buyer.pk, key="2", **NOTICE)
    message = Message.objects.get(user=buyer, key="1")

    r = buyer_api.post(f"inbox/{message.pk}/read")

    assert r.status_code == 200
    assert r.json()["read"] is True
    assert buyer_api.get("inbox").json()["unread"] == 1
    first_read = Message.objects.get(pk=message.pk).read_at
    assert buyer_api.post(f"inbox/{message.pk}/read").status_code == 200  # again: no change
    assert Message.objects.get(pk=message.pk).read_at == first_read


def test_another_members_message_is_not_found(buyer_api: Any) -> None:
    other = UserFactory()
    services.notify_member(other.pk, key="1", **NOTICE)
    message = Message.objects.get(user=other)

    r = buyer_api.post(f"inbox/{message.pk}/read")

    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert Message.objects.get(pk=message.pk).read_at is None


@pytest.mark.parametrize("message_id", ["0", "9223372036854775808", "abc"])
def test_read_refuses_ids_out_of_range(buyer_api: Any, message_id: str) -> None:
    assert buyer_api.post(f"inbox/{message_id}/read").status_code == 422


def test_read_all_marks_only_own_unread(buyer: Any, buyer_api: Any) -> None:
    other = UserFactory()
    for n in range(3):
        services.notify_member(buyer.pk, key=str(n), **NOTICE)
    services.notify_member(other.pk, key="0", **NOTICE)

    r = buyer_api.post("inbox/read-all")

    assert r.status_code == 200
    assert r.json() == {"marked": 3, "unread": 0}
    assert Message.objects.filter(user=other, read_at__isnull=True).count() == 1
    assert buyer_api.post("inbox/read-all").json() == {"marked": 0, "unread": 0}


def test_inbox_reads_in_a_fixed_number_of_queries(buyer: Any, django_assert_max_num_queries: Any) -> None:
    from conftest import Api

    for n in range(30):
        services.notify_member(buyer.pk, key=str(n), **NOTICE)
    client = Api(issue_token(buyer))
    with django_assert_max_num_queries(4):  # token, page, unread count (+ token touch)
        assert len(client.get("inbox?limit=30").json()["items"]) == 30


def test_retention_deletes_old_messages_only(buyer: Any, monkeypatch: Any) -> None:
    services.notify_member(buyer.pk, key="old", **NOTICE)
    services.notify_member(buyer.pk, key="new", **NOTICE)
    Message.objects.filter(key="old").update(created_at=timezone.now() - timedelta(days=conf.RETENTION_DAYS + 1))

    assert services.purge_expired() == 1
    assert list(Message.objects.values_list("key", flat=True)) == ["new"]

    monkeypatch.setattr(conf, "RETENTION_DAYS", 0)
    Message.objects.update(created_at=timezone.now() - timedelta(days=10_000))
    assert services.purge_expired() == 0
