"""Sold-out flash items refused at the door: before URL routing, the API and the token lookup.

At a sale's peak nearly every attempt is for an item that has just sold out; answering those
with the API's usual 409 ``sold_out`` body from here keeps them as cheap as a health check,
so the server's time goes to the buyers who can still win. Attempts carrying an
``Idempotency-Key`` take the normal way, so a retried winning attempt still replays its order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from . import flash

ATTEMPT_PATH = re.compile(r"^/api/v1/flash-sales/(\d{1,18})/orders$")


class FlashSoldOutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and "HTTP_IDEMPOTENCY_KEY" not in request.META:
            match = ATTEMPT_PATH.match(request.path_info)
            if match and flash.known_sold_out(int(match.group(1))):
                body = json.dumps(flash.FlashSoldOut().as_dict(), ensure_ascii=False).encode()
                response = HttpResponse(body, status=409, content_type="application/json; charset=utf-8")
                response["Content-Length"] = str(len(body))  # CommonMiddleware, below, never sees it
                return response
        return self.get_response(request)
