"""Idempotency-Key for API writes: a replay returns the first response, once per effect."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from django.db import connection
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


# Statements that change nothing: anything else may be an effect of the request.
READ_ONLY_STATEMENTS = ("SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "SET", "SHOW", "PRAGMA", "COMMIT")


class CommitWatch:
    """Notes whether a request's writes reached the database for good.

    A write in autocommit is committed at once; a write inside a transaction counts once
    the outermost transaction commits (``on_commit`` forgets callbacks of a rollback,
    savepoints included). A request that failed with nothing committed may run again; one
    that committed something may not, since running it again would repeat its effects.
    """

    def __init__(self) -> None:
        self.committed = False

    def _mark(self) -> None:
        self.committed = True

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        if not self.committed and not sql.lstrip().upper().startswith(READ_ONLY_STATEMENTS):
            if connection.in_atomic_block:
                connection.on_commit(self._mark)
            else:
                self._mark()
        return result


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
            return self._first(request, record_id)
        return self._existing(scope, key, request_hash)

    def _first(self, request: HttpRequest, record_id: int) -> HttpResponse:
        watch = CommitWatch()
        try:
            with connection.execute_wrapper(watch):
                response = self.get_response(request)
        except BaseException:
            self._failed(record_id, watch)
            raise
        if response.status_code >= 500 or getattr(response, "streaming", False):
            self._failed(record_id, watch)
        else:
            IdempotencyRecord.objects.filter(pk=record_id).update(
                status_code=response.status_code,
                content_type=response.get("Content-Type", ""),
                body=response.content,
            )
        return response

    def _failed(self, record_id: int, watch: CommitWatch) -> None:
        """No answer to replay: forget the key if nothing was committed, else say so to retries."""
        if not watch.committed:
            IdempotencyRecord.objects.filter(pk=record_id).delete()
            return
        body = error_body(
            "idempotency_unknown", _("上一次请求可能已经生效，请先查询结果，再决定是否用新的 Idempotency-Key 重试")
        )
        IdempotencyRecord.objects.filter(pk=record_id).update(
            status_code=409, content_type="application/json", body=json.dumps(body, ensure_ascii=False).encode()
        )

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
