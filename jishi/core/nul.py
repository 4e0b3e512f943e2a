"""NUL characters refused at the API's door: PostgreSQL text cannot hold them, SQLite can.

A 422 naming the fields, the same on both databases, instead of a database error halfway
through a request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from .errors import error_body


def nul_fields(data: Any, path: str = "") -> list[str]:
    """Where a decoded JSON value holds a NUL character."""
    if isinstance(data, str):
        return [path or "__all__"] if "\x00" in data else []
    if isinstance(data, dict):
        return [f for key, value in data.items() for f in nul_fields(value, f"{path}.{key}" if path else str(key))]
    if isinstance(data, list):
        return [f for index, value in enumerate(data) for f in nul_fields(value, f"{path}.{index}")]
    return []


class RefuseNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            fields = [key for key, values in request.GET.lists() if any("\x00" in v for v in values)]
            # JSON only: reading a multipart upload's body here would hold the whole file in memory.
            if request.content_type == "application/json" and b"\\u0000" in request.body:
                try:  # only an escaped NUL can be in valid JSON; a literal "\u0000" text is fine
                    fields += nul_fields(json.loads(request.body))
                except ValueError:
                    pass  # not JSON: the API answers that itself
            if fields:
                body = error_body(
                    "invalid", _("输入含有不允许的控制字符"), {f: [_("不能包含 NUL 字符")] for f in fields}
                )
                return JsonResponse(body, status=422)
        return self.get_response(request)
