"""Channels: vendors' SDKs against local fakes, delivery records, retries, receipts, settings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import time, timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django.utils import timezone

from jishi.notify import delivery, services
from jishi.notify.channels import forget_backends
from jishi.notify.fakes import FakeAliyunSms, FakeTencentSms, FakeWechat
from jishi.notify.models import Delivery, MemberChannels, Message
from jishi.notify.receipts import wechat_signature
from jishi.testing.factories import UserFactory

pytestmark = pytest.mark.django_db

ALIYUN = "jishi.notify.channels.aliyun.AliyunSmsBackend"
TENCENT = "jishi.notify.channels.tencent.TencentSmsBackend"
WECHAT = "jishi.notify.channels.wechat.WechatBackend"
MAIL = "jishi.notify.channels.email.DjangoMailBackend"
NOTICE = {"category": "order", "title": "订单已发货", "body": "顺丰 SF1", "link": "/orders/1/"}


@pytest.fixture
def vendors(settings: Any) -> Iterator[dict[str, Any]]:
    aliyun, tencent, wechat = FakeAliyunSms(), FakeTencentSms(), FakeWechat()
    settings.JISHI_NOTIFY = {
        "BACKENDS": {"sms": ALIYUN, "wechat": WECHAT, "email": MAIL},
        "TRANSACTIONAL_CHANNELS": {"order": ["sms", "wechat", "email"]},
        "ALIYUN_SMS": {
            "ACCESS_KEY_ID": "test-ak",
            "ACCESS_KEY_SECRET": "test-secret",
            "ENDPOINT": aliyun.endpoint,
            "PROTOCOL": "http",
            "SIGN_NAME": "集市",
        },
        "TENCENT_SMS": {
            "SECRET_ID": "test-id",
            "SECRET_KEY": "test-key",
            "ENDPOINT": tencent.endpoint,
            "PROTOCOL": "http",
            "REGION": "ap-guangzhou",
            "SDK_APP_ID": "1400000001",
            "SIGN_NAME": "集市",
        },
        "WECHAT": {
            "API_BASE": f"http://{wechat.endpoint}",
            "MINIPROGRAM_APP_ID": "wx-mini",
            "MINIPROGRAM_SECRET": "mini-secret",
            "OFFICIAL_APP_ID": "wx-mp",
            "OFFICIAL_SECRET": "mp-secret",
            "PUSH_TOKEN": "push-token",
            "TEMPLATES": {"order": "TPL_ORDER", "promotion": "TPL_PROMO"},
        },
        "SMS_RECEIPT_SECRET": "receipt-secret",
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    forget_backends()
    yield {"aliyun": aliyun, "tencent": tencent, "wechat": wechat}
    forget_backends()
    for fake in (aliyun, tencent, wechat):
        fake.close()


def member(phone: str = "13900000001", openid: str = "oOPENID1", email: str = "a@example.com", **prefs: Any) -> Any:
    user = UserFactory(phone=phone)
    MemberChannels.objects.create(user=user, wechat_openid=openid, email=email, **prefs)
    return user


def rows(user: Any) -> dict[str, Delivery]:
    return {d.channel: d for d in Delivery.objects.filter(user=user)}


def test_a_notice_writes_one_delivery_row_per_channel(vendors: Any) -> None:
    user = member()
    services.notify_member(user.pk, key="n1", **NOTICE)
    services.notify_member(user.pk, key="n1", **NOTICE)

    found = rows(user)
    assert sorted(found) == ["email", "inbox", "sms", "wechat"]
    assert found["inbox"].status == "delivered"
    assert {found[c].status for c in ("sms", "wechat", "email")} == {"queued"}


def test_channels_without_an_address_get_no_row(vendors: Any) -> None:
    user = UserFactory()
    type(user).objects.filter(pk=user.pk).update(phone=None)
    services.notify_member(user.pk, key="n1", **NOTICE)
    assert sorted(rows(user)) == ["inbox"]


def test_sms_goes_through_the_aliyun_sdk_and_its_receipt_marks_it_delivered(vendors: Any) -> None:
    user = member()
    services.notify_member(user.pk, key="n1", **NOTICE)

    delivery.send_all_due()

    sms = rows(user)["sms"]
    assert (sms.status, sms.vendor_id, sms.attempts) == ("sent", "900001^0", 1)
    sent = vendors["aliyun"].requests
    assert [(r["PhoneNumbers"], r["OutId"], r["TemplateCode"]) for r in sent] == [
        ("13900000001", str(sms.pk), "SMS_ORDER")
    ]
    assert json.loads(sent[0]["TemplateParam"]) == {"title": "订单已发货", "content": "顺丰 SF1"}

    report = [{"biz_id": "900001^0", "success": True, "err_code": "DELIVERED", "phone_number": "13900000001"}]
    url = "/notify/receipts/sms/aliyun/receipt-secret/"
    for _ in range(2):  # a replayed report changes nothing
        r = Client().post(url, json.dumps(report), content_type="application/json")
        assert (r.status_code, r.json()) == (200, {"code": 0, "msg": "成功"})
    sms.refresh_from_db()
    assert sms.status == "delivered"
    first = sms.delivered_at
    Client().post(url, json.dumps(report), content_type="application/json")
    sms.refresh_from_db()
    assert sms.delivered_at == first


@pytest.mark.parametrize("secret", ["wrong-secret", "receipt-secre"])
def test_a_forged_sms_receipt_is_refused(vendors: Any, secret: str) -> None:
    user = member()
    services.notify_member(user.pk, key="n1", **NOTICE)
    delivery.send_all_due()
    report = [{"biz_id": "900001^0", "success": False, "err_code": "MK:0001"}]

    r = Client().post(f"/notify/receipts/sms/aliyun/{secret}/", json.dumps(report), content_type="application/json")

    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    assert rows(user)["sms"].status == "sent"


def test_receipts_are_refused_when_no_secret_is_configured(vendors: Any, settings: Any) -> None:
    settings.JISHI_NOTIFY = {**settings.JISHI_NOTIFY, "SMS_RECEIPT_SECRET": ""}
    r = Client().post("/notify/receipts/sms/aliyun/x/", "[]", content_type="application/json")
    assert r.status_code == 403


def test_a_malformed_receipt_is_a_400(vendors: Any) -> None:
    r = Client().post("/notify/receipts/sms/aliyun/receipt-secret/", "{nope", content_type="application/json")
    assert r.status_code == 400


def test_sms_through_tencents_sdk(vendors: Any, settings: Any) -> None:
    settings.JISHI_NOTIFY = {**settings.JISHI_NOTIFY, "BACKENDS": {"sms": TENCENT, "wechat": WECHAT, "email": MAIL}}
    forget_backends()
    user = member()
    services.notify_member(user.pk, key="n1", **NOTICE)

    delivery.send_all_due(channel="sms")

    sms = rows(user)["sms"]
    assert (sms.status, sms.vendor_id) == ("sent", "2433:000000000001")
    assert vendors["tencent"].requests[0]["SessionContext"] == str(sms.pk)
    report = [{"sid": "2433:000000000001", "report_status": "FAIL", "errmsg": "MK:0004", "mobile": "13900000001"}]
    r = Client().post(
        "/notify/receipts/sms/tencent/receipt-secret/", json.dumps(report), content_type="application/json"
    )
    assert r.json() == {"result": 0, "errmsg": "OK"}
    sms.refresh_from_db()
    assert (sms.status, sms.reason) == ("failed", "MK:0004")


def test_an_invalid_number_fails_permanently(vendors: Any) -> None:
    user = member(phone="19990000000")
    services.notify_member(user.pk, key="n1", **NOTICE)

    delivery.send_all_due(channel="sms")
    delivery.send_all_due(channel="sms", now=timezone.now() + timedelta(days=1))

    sms = rows(user)["sms"]
    assert (sms.status, sms.reason, sms.attempts) == ("failed", "isv.MOBILE_NUMBER_ILLEGAL", 1)
    assert len(vendors["aliyun"].requests) == 1


def test_a_transient_failure_is_retried_with_backoff_then_given_up(vendors: Any, settings: Any) -> None:
    settings.JISHI_NOTIFY = {**settings.JISHI_NOTIFY, "RETRY_BACKOFF": [60, 600]}
    vendors["aliyun"].fail_next = ["isp.SYSTEM_ERROR"] * 3
    user = member()
    services.notify_member(user.pk, key="n1", **NOTICE)
    start = timezone.now()

    delivery.send_all_due(channel="sms", now=start)
    sms = rows(user)["sms"]
    assert (sms.status, sms.attempts, sms.reason) == ("queued", 1, "isp.SYSTEM_ERROR")
    assert sms.next_attempt_at is not None and sms.next_attempt_at >= start + timedelta(seconds=60)

    assert delivery.send_all_due(channel="sms", now=start + timedelta(seconds=30)) == 0  # not due yet
    delivery.send_all_due(channel="sms", now=start + timedelta(seconds=61))
    delivery.send_all_due(channel="sms", now=start + timedelta(seconds=700))

    sms = rows(user)["sms"]
    assert (sms.status, sms.attempts, sms.reason) == ("failed", 3, "isp.SYSTEM_ERROR")
    assert len(vendors["aliyun"].requests) == 3


def test_a_transient_failure_then_success(vendors: Any) -> None:
    vendors["aliyun"].fail_next = ["isv.BUSINESS_LIMIT_CONTROL"]
    user = member()
    services.notify_member(user.pk, key="n1", **NOTICE)

    delivery.send_all_due(channel="sms")
    delivery.send_all_due(channel="sms", now=timezone.now() + timedelta(hours=1))

    sms = rows(user)["sms"]
    assert (sms.status, sms.attempts, sms.reason) == ("sent", 2, "")


def test_wechat_caches_its_access_token_and_refreshes_an_expired_one(vendors: Any) -> None:
    wx = vendors["wechat"]
    users = [member(phone=f"1390000000{n}", openid=f"oOPENID{n}") for n in range(3)]
    for n, user in enumerate(users[:2]):
        services.notify_member(user.pk, key=f"n{n}", **NOTICE)

    delivery.send_all_due(channel="wechat")
    assert wx.tokens_issued == 1

    wx.expire_tokens()
    services.notify_member(users[2].pk, key="n2", **NOTICE)
    delivery.send_all_due(channel="wechat")

    assert wx.tokens_issued == 2
    assert [rows(u)["wechat"].status for u in users] == ["sent", "sent", "sent"]
    sends = [r for r in wx.requests if r["path"] == "/cgi-bin/message/subscribe/send"]
    assert [s["touser"] for s in sends] == ["oOPENID0", "oOPENID1", "oOPENID2"]
    assert sends[0]["template_id"] == "TPL_ORDER"
    assert sends[0]["page"] == "orders/1/"


def test_official_account_members_get_a_template_message(vendors: Any) -> None:
    user = member(wechat_kind="official")
    services.notify_member(user.pk, key="n1", **NOTICE)

    delivery.send_all_due(channel="wechat")

    assert vendors["wechat"].requests[0]["path"] == "/cgi-bin/message/template/send"
    assert rows(user)["wechat"].status == "sent"


def test_a_member_who_refused_wechat_messages_is_not_retried(vendors: Any) -> None:
    user = member(openid="refused")
    services.notify_member(user.pk, key="n1", **NOTICE)

    delivery.send_all_due(channel="wechat")
    delivery.send_all_due(channel="wechat", now=timezone.now() + timedelta(days=1))

    wechat = rows(user)["wechat"]
    assert (wechat.status, wechat.reason, wechat.attempts) == ("failed", "wechat:43101", 1)


def _wechat_push(body: dict[str, Any], token: str = "push-token") -> Any:
    ts, nonce = "1700000000", "n0nce"
    sig = wechat_signature(token, ts, nonce)
    url = f"/notify/receipts/wechat/?signature={sig}&timestamp={ts}&nonce={nonce}"
    return Client().post(url, json.dumps(body), content_type="application/json")


def test_wechat_sent_events_update_the_delivery_and_forged_ones_are_refused(vendors: Any) -> None:
    user = member()
    services.notify_member(user.pk, key="n1", **NOTICE)
    delivery.send_all_due(channel="wechat")
    wechat = rows(user)["wechat"]
    event = {
        "FromUserName": "oOPENID1",
        "MsgType": "event",
        "Event": "subscribe_msg_sent_event",
        "List": {"TemplateId": "TPL_ORDER", "MsgID": wechat.vendor_id, "ErrorCode": "0", "ErrorStatus": "success"},
    }

    forged = _wechat_push(event, token="guessed")
    assert forged.status_code == 403
    assert rows(user)["wechat"].status == "sent"

    ok = _wechat_push(event)
    assert (ok.status_code, ok.content) == (200, b"success")
    assert rows(user)["wechat"].status == "delivered"


def test_wechat_push_url_check_echoes(vendors: Any) -> None:
    sig = wechat_signature("push-token", "1", "2")
    r = Client().get(f"/notify/receipts/wechat/?signature={sig}&timestamp=1&nonce=2&echostr=hello")
    assert (r.status_code, r.content) == (200, b"hello")


def test_email_goes_through_django_mail(vendors: Any) -> None:
    user = member(email="buyer@example.com")
    services.notify_member(user.pk, key="n1", **NOTICE)

    delivery.send_all_due(channel="email")

    assert [(m.to, m.subject) for m in mail.outbox] == [(["buyer@example.com"], "订单已发货")]
    assert rows(user)["email"].status == "sent"


def test_quiet_hours_hold_marketing_but_not_transactional_sends(vendors: Any) -> None:
    now = timezone.now()
    local = timezone.localtime(now)
    start = (local - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (local + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    user = member(quiet_start=start, quiet_end=end)
    services.notify_member(user.pk, key="n1", **NOTICE)
    Delivery.objects.filter(user=user, channel="wechat").update(marketing=True)

    delivery.send_all_due(now=now)

    found = rows(user)
    assert found["sms"].status == "sent"  # transactional
    assert found["wechat"].status == "queued"  # marketing waits for the end of quiet hours
    assert found["wechat"].attempts == 0
    assert found["wechat"].next_attempt_at is not None
    assert timezone.localtime(found["wechat"].next_attempt_at).time() == end


def test_quiet_hours_across_midnight() -> None:
    assert delivery._in_quiet_hours(time(23, 30), time(22, 0), time(8, 0))
    assert delivery._in_quiet_hours(time(7, 59), time(22, 0), time(8, 0))
    assert not delivery._in_quiet_hours(time(8, 0), time(22, 0), time(8, 0))
    assert not delivery._in_quiet_hours(time(12, 0), None, None)


def test_sending_inside_a_transaction_is_refused(vendors: Any) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        delivery.send_due()


def test_reading_in_the_inbox_marks_the_inbox_delivery_read(vendors: Any) -> None:
    user = member()
    services.notify_member(user.pk, key="n1", **NOTICE)
    services.notify_member(user.pk, key="n2", **NOTICE)
    first = Message.objects.get(user=user, key="n1")

    services.mark_read(user, first.pk)
    assert Delivery.objects.get(message=first, channel="inbox").status == "read"
    services.mark_all_read(user)

    assert set(Delivery.objects.filter(user=user, channel="inbox").values_list("status", flat=True)) == {"read"}


# --- notice settings (API) ---------------------------------------------------------------------


def test_notice_settings_start_all_on(buyer: Any, buyer_api: Any) -> None:
    r = buyer_api.get("notice-settings")
    assert r.status_code == 200
    assert r.json() == {
        "phone": buyer.phone,
        "email": "",
        "wechat_bound": False,
        "sms_marketing": True,
        "wechat_marketing": True,
        "email_marketing": True,
        "quiet_start": None,
        "quiet_end": None,
    }


def test_notice_settings_change_only_what_is_given(buyer_api: Any) -> None:
    r = buyer_api.put("notice-settings", {"sms_marketing": False, "quiet_start": "22:00", "quiet_end": "08:00"})
    assert r.status_code == 200
    r = buyer_api.put("notice-settings", {"email": "me@example.com"})
    body = r.json()
    assert (body["sms_marketing"], body["email"], body["quiet_start"], body["quiet_end"]) == (
        False,
        "me@example.com",
        "22:00",
        "08:00",
    )
    r = buyer_api.put("notice-settings", {"quiet_start": None, "quiet_end": None})
    assert (r.json()["quiet_start"], r.json()["quiet_end"]) == (None, None)


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email"},
        {"quiet_start": "22:00"},
        {"quiet_start": "25:00"},
        {"sms_marketing": "maybe"},
        {"quiet_start": "00:00:00Z", "quiet_end": 0},
    ],
)
def test_bad_notice_settings_are_refused_and_nothing_changes(buyer: Any, buyer_api: Any, body: dict[str, Any]) -> None:
    r = buyer_api.put("notice-settings", body)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid"
    assert buyer_api.get("notice-settings").json()["quiet_start"] is None
    assert buyer_api.get("notice-settings").json()["email"] == ""


# --- e-mail through a vendor (anymail's Mailgun backend against a local Mailgun) ----------------------

SIGNING_KEY = "mailgun-signing-key"


@pytest.fixture
def mailgun(vendors: Any, settings: Any) -> Iterator[Any]:
    from jishi.notify.fakes import FakeMailgun

    fake = FakeMailgun()
    settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "集市 <noreply@mg.jishi.test>"
    settings.ANYMAIL = {
        "MAILGUN_API_KEY": fake.api_key,
        "MAILGUN_API_URL": fake.api_url,
        "MAILGUN_SENDER_DOMAIN": fake.domain,
        "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY,
    }
    yield fake
    fake.close()


def post_receipt(body: Any, esp: str = "mailgun") -> Any:
    return Client().post(f"/notify/receipts/email/{esp}/", json.dumps(body), content_type="application/json")


def sent_email(mailgun: Any, **prefs: Any) -> tuple[Any, Delivery]:
    user = member(email="buyer@example.com", **prefs)
    services.notify_member(user.pk, key="n1", **NOTICE)
    delivery.send_all_due(channel="email")
    return user, rows(user)["email"]


def test_email_goes_through_the_vendor_and_its_receipts_move_the_row(mailgun: Any) -> None:
    from jishi.notify.fakes import mailgun_event

    _user, email = sent_email(mailgun)
    assert [(r["to"], r["subject"]) for r in mailgun.requests] == [("buyer@example.com", "订单已发货")]
    assert (email.status, email.vendor_id) == ("sent", mailgun.requests[0]["message_id"])

    for _ in range(2):  # a replayed receipt changes nothing
        r = post_receipt(mailgun_event("delivered", email.vendor_id, SIGNING_KEY))
        assert r.status_code == 200
        email.refresh_from_db()
        assert email.status == "delivered"
    delivered_at = email.delivered_at
    assert post_receipt(mailgun_event("opened", email.vendor_id, SIGNING_KEY)).status_code == 200
    email.refresh_from_db()
    assert (email.status, email.delivered_at) == ("read", delivered_at)
    assert email.read_at is not None
    post_receipt(mailgun_event("delivered", email.vendor_id, SIGNING_KEY))  # late: no step back
    email.refresh_from_db()
    assert email.status == "read"


def test_a_bounce_fails_the_email_for_good(mailgun: Any) -> None:
    from jishi.notify.fakes import mailgun_event

    _user, email = sent_email(mailgun)
    event = mailgun_event("failed", email.vendor_id, SIGNING_KEY, severity="permanent", reason="bounce")
    assert post_receipt(event).status_code == 200
    email.refresh_from_db()
    assert (email.status, email.reason) == ("failed", "email:bounced:bounced")
    delivery.send_all_due(channel="email")  # never sent again
    assert len(mailgun.requests) == 1


def test_a_complaint_switches_email_marketing_off(mailgun: Any) -> None:
    from jishi.notify.fakes import mailgun_event

    user, email = sent_email(mailgun)
    assert post_receipt(mailgun_event("complained", email.vendor_id, SIGNING_KEY)).status_code == 200
    prefs = MemberChannels.objects.get(user=user)
    assert (prefs.email_marketing, prefs.sms_marketing) == (False, True)


@pytest.mark.parametrize("key", ["wrong-key", ""])
def test_a_forged_email_receipt_is_refused(mailgun: Any, key: str) -> None:
    from jishi.notify.fakes import mailgun_event

    _user, email = sent_email(mailgun)
    event = mailgun_event("delivered", email.vendor_id, key or SIGNING_KEY)
    if not key:
        event["signature"]["signature"] = "0" * 64
    r = post_receipt(event)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden")
    email.refresh_from_db()
    assert email.status == "sent"


def test_email_receipts_of_unsigned_vendors_need_the_shared_secret(mailgun: Any, settings: Any) -> None:
    """Postmark signs nothing: its receipts count only with the basic-auth secret configured and given."""
    import base64

    _user, email = sent_email(mailgun)
    event = {
        "RecordType": "Delivery",
        "MessageID": email.vendor_id,
        "Recipient": "buyer@example.com",
        "DeliveredAt": "2026-12-01T10:00:00Z",
        "Details": "ok",
        "Tag": "",
        "Metadata": {},
    }
    r = post_receipt(event, esp="postmark")
    assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden")
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "jishi:hook-secret"}
    r = post_receipt(event, esp="postmark")  # configured, but this request carries no credentials
    assert r.status_code == 403
    assert post_receipt({}, esp="no-such-vendor").status_code == 404
    email.refresh_from_db()
    assert email.status == "sent"

    auth = "Basic " + base64.b64encode(b"jishi:hook-secret").decode()
    r = Client().post(
        "/notify/receipts/email/postmark/", json.dumps(event), content_type="application/json", HTTP_AUTHORIZATION=auth
    )
    assert r.status_code == 200
    email.refresh_from_db()
    assert email.status == "delivered"


def test_a_malformed_signed_email_receipt_is_a_400(mailgun: Any) -> None:
    from jishi.notify.fakes import mailgun_event

    event = mailgun_event("delivered", "<x@y>", SIGNING_KEY)
    del event["event-data"]["event"]
    r = post_receipt(event)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid")
