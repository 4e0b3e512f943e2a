"""Idempotency-Key for API writes: a replay returns the first response, once per effect."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from jishi.core.conf import setting

from .errors import error_body
from .models import IdempotencyRecord
from .sql import insert_once

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _scope(request: HttpRequest) -> str:
    """Keys are per caller: the same key from two buyers are two different requests."""
    caller = request.headers.get("Authorization") or request.COOKIES.get("sessionid") or "anon"
    return hashlib.sha256(caller.encode()).hexdigest()


def _request_hash(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() if request.method else b"")
    digest.update(request.get_full_path().encode())
    digest.update(b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.body or b""),
        status=record.status_code,
        content_type=record.content_type or "application/json",
    )
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get("Idempotency-Key")
        if not key or request.method not in WRITE_METHODS or not request.path.startswith("/api/"):
            return self.get_response(request)
        if len(key) > 255:
            return JsonResponse(
                error_body("invalid_idempotency_key", _("Idempotency-Key 过长（最多 255 个字符）")),
                status=400,
            )
        scope = _scope(request)
        request_hash = _request_hash(request)
        record_id = insert_once(
            IdempotencyRecord,
            {"scope": scope, "key": key, "request_hash": request_hash},
            conflict=["scope", "key"],
        )
        if record_id is not None:
            try:
                response = self.get_response(request)
            except BaseException:
                IdempotencyRecord.objects.filter(pk=record_id).delete()
                raise
            if response.status_code >= 500 or getattr(response, "streaming", False):
                IdempotencyRecord.objects.filter(pk=record_id).delete()
            else:
                IdempotencyRecord.objects.filter(pk=record_id).update(
                    status_code=response.status_code,
                    content_type=response.get("Content-Type", ""),
                    body=response.content,
                )
            return response
        return self._existing(scope, key, request_hash)

    def _existing(self, scope: str, key: str, request_hash: str) -> HttpResponse:
        deadline = time.monotonic() + setting("IDEMPOTENCY_WAIT_SECONDS")
        while True:
            record = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
            if record is None:
                return JsonResponse(error_body("idempotency_retry", _("上一次请求失败，请重试")), status=409)
            if record.request_hash != request_hash:
                return JsonResponse(
                    error_body(
                        "idempotency_key_reused",
                        _("同一个 Idempotency-Key 用于了不同的请求"),
                        {"Idempotency-Key": [json.dumps(key, ensure_ascii=False)]},
                    ),
                    status=422,
                )
            if record.status_code is not None:
                return _replay(record)
            if time.monotonic() > deadline:
                return JsonResponse(error_body("idempotency_in_progress", _("相同的请求正在处理中")), status=409)
            time.sleep(0.05)
