"""Vendor receipts (status reports, WeChat events) → delivery rows, through verified callbacks.

SMS status reports carry no signature of their own: the vendor is given a URL with a secret
(``SMS_RECEIPT_SECRET``) and a request without it is refused. WeChat pushes are signed with the
push token (sha1 of token, timestamp, nonce). Every update is a conditional transition, so a
replayed receipt changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import conf, delivery
from .models import Channel

log = logging.getLogger(__name__)


def _secret_ok(given: str) -> bool:
    expected = conf.notify_setting("SMS_RECEIPT_SECRET") or ""
    return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())


def _json(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        return None


def _refused() -> HttpResponse:
    return JsonResponse({"error": {"code": "forbidden", "message": "receipt not verified", "fields": {}}}, status=403)


def _bad() -> HttpResponse:
    return JsonResponse({"error": {"code": "invalid", "message": "malformed receipt", "fields": {}}}, status=400)


@csrf_exempt
@require_http_methods(["POST"])
def aliyun_sms_report(request: HttpRequest, secret: str) -> HttpResponse:
    """Aliyun SmsReport push: a JSON list of ``{biz_id, success, err_code, ...}``."""
    if not _secret_ok(secret):
        return _refused()
    reports = _json(request)
    if not isinstance(reports, list) or not all(isinstance(r, dict) for r in reports):
        return _bad()
    for r in reports:
        delivery.apply_receipt(
            Channel.SMS,
            str(r.get("biz_id") or ""),
            delivered=bool(r.get("success")),
            reason=str(r.get("err_code") or ""),
        )
    return JsonResponse({"code": 0, "msg": "成功"})


@csrf_exempt
@require_http_methods(["POST"])
def tencent_sms_report(request: HttpRequest, secret: str) -> HttpResponse:
    """Tencent SMS status callback: a JSON list of ``{sid, report_status, errmsg, ...}``."""
    if not _secret_ok(secret):
        return _refused()
    reports = _json(request)
    if not isinstance(reports, list) or not all(isinstance(r, dict) for r in reports):
        return _bad()
    for r in reports:
        delivery.apply_receipt(
            Channel.SMS,
            str(r.get("sid") or ""),
            delivered=r.get("report_status") == "SUCCESS",
            reason=str(r.get("errmsg") or ""),
        )
    return JsonResponse({"result": 0, "errmsg": "OK"})


def wechat_signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324 (WeChat's scheme)


def _wechat_ok(request: HttpRequest) -> bool:
    token = conf.notify_setting("WECHAT")["PUSH_TOKEN"] or ""
    if not token:
        return False
    given = request.GET.get("signature", "")
    expected = wechat_signature(token, request.GET.get("timestamp", ""), request.GET.get("nonce", ""))
    return hmac.compare_digest(expected, given)


def _wechat_events(event: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """(msg id, delivered, reason) of a pushed event."""
    name = event.get("Event")
    if name == "subscribe_msg_sent_event":
        items = event.get("List") or []
        items = items if isinstance(items, list) else [items]
        return [
            (str(i.get("MsgID", "")), str(i.get("ErrorCode", "")) == "0", f"wechat:{i.get('ErrorCode', '')}")
            for i in items
            if isinstance(i, dict)
        ]
    if name == "TEMPLATESENDJOBFINISH":
        status = str(event.get("Status", ""))
        return [(str(event.get("MsgID", "")), status == "success", status.replace("failed:", "wechat:")[:64])]
    return []


@csrf_exempt
@require_http_methods(["GET", "POST"])
def wechat_push(request: HttpRequest) -> HttpResponse:
    """WeChat message push (JSON mode): subscribe-message and template-message send results."""
    if not _wechat_ok(request):
        return _refused()
    if request.method == "GET":  # the console's URL check
        return HttpResponse(request.GET.get("echostr", ""), content_type="text/plain")
    event = _json(request)
    if not isinstance(event, dict):
        return _bad()
    for msg_id, delivered, reason in _wechat_events(event):
        delivery.apply_receipt(Channel.WECHAT, msg_id, delivered=delivered, reason=reason)
    return HttpResponse("success", content_type="text/plain")
