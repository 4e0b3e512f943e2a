"""Same-city courier adapters (达达 / 闪送 / 美团配送 style): create, signed status callbacks, cancel.

An adapter talks to the outside world only. The service commits the request with a fixed
number (``courier_ref``) before calling, settles in a second transaction, and a job resumes
requests that crashed in between with the same number (couriers treat it as idempotent).
The one adapter here speaks a small signed JSON protocol (HMAC-SHA256 over timestamp and
body), implemented by ``jishi.retail.fake_courier`` for tests and the demo.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import User
from jishi.core.errors import Conflict

from .conf import retail_setting
from .models import Fulfilment, FulfilmentMode, FulfilmentStatus

MAX_AGE_SECONDS = 300


@dataclass(frozen=True)
class CourierRequest:
    ref: str  # our idempotency number
    pickup: dict[str, Any]
    dropoff: dict[str, Any]
    fee: int


@dataclass(frozen=True)
class CourierUpdate:
    courier_order_id: str
    ref: str
    status: str  # accepted | picked_up | delivered | cancelled


class InvalidCallback(Exception):
    """A callback that must not be trusted (signature, age, shape)."""


class CourierError(Exception):
    """The courier could not be reached or refused; the request stays resumable."""


class CourierAdapter(Protocol):
    name: str

    def create(self, req: CourierRequest) -> str: ...

    def cancel(self, courier_order_id: str, ref: str) -> None: ...

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> CourierUpdate: ...


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def default_secret() -> str:
    return (
        retail_setting("COURIER_SECRET")
        or hmac.new(str(settings.SECRET_KEY).encode(), b"jishi.retail.courier", hashlib.sha256).hexdigest()
    )


class HttpCourier:
    """The signed JSON protocol over HTTP."""

    name = "fake"

    def __init__(self, base_url: str, secret: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.timeout = timeout

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(payload, sort_keys=True).encode()
        ts = str(int(time.time()))
        request = urllib.request.Request(  # noqa: S310 - a configured https/http courier URL
            f"{self.base_url}{path}",
            data=body,
            headers={"Content-Type": "application/json", "X-Timestamp": ts, "X-Signature": sign(self.secret, ts, body)},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:  # noqa: S310
                answer: dict[str, Any] = json.loads(resp.read())
        except Exception as exc:
            raise CourierError(str(exc)) from exc
        if answer.get("code") != 0:
            raise CourierError(str(answer.get("message", "refused")))
        return answer

    def create(self, req: CourierRequest) -> str:
        answer = self._post("/orders", {"ref": req.ref, "pickup": req.pickup, "dropoff": req.dropoff, "fee": req.fee})
        return str(answer["courier_order_id"])

    def cancel(self, courier_order_id: str, ref: str) -> None:
        self._post("/orders/cancel", {"courier_order_id": courier_order_id, "ref": ref})

    def parse_callback(self, body: bytes, headers: Mapping[str, str]) -> CourierUpdate:
        ts = headers.get("X-Timestamp") or headers.get("HTTP_X_TIMESTAMP") or ""
        signature = headers.get("X-Signature") or headers.get("HTTP_X_SIGNATURE") or ""
        if not ts.isdigit() or abs(time.time() - int(ts)) > MAX_AGE_SECONDS:
            raise InvalidCallback("stale or missing timestamp")
        if not hmac.compare_digest(sign(self.secret, ts, body), signature):
            raise InvalidCallback("bad signature")
        try:
            data = json.loads(body)
            return CourierUpdate(str(data["courier_order_id"]), str(data["ref"]), str(data["status"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidCallback("malformed") from exc


_adapter: CourierAdapter | None = None


def get_adapter() -> CourierAdapter:
    if _adapter is not None:
        return _adapter
    url = retail_setting("COURIER_URL")
    if not url:
        raise Conflict(_("未接入同城配送平台"), code="courier_unavailable")
    return HttpCourier(url, default_secret())


def use_adapter(adapter: CourierAdapter | None) -> None:
    """Tests and the demo point the service at a (fake) courier."""
    global _adapter
    _adapter = adapter


def request_courier(actor: User, order_id: int) -> Fulfilment:
    """Hand a ready delivery order to the courier: intent first, then the call, then settle."""
    from .fulfilment import staff_fulfilment

    f = staff_fulfilment(actor, order_id)
    if f.mode != FulfilmentMode.DELIVERY or f.status != FulfilmentStatus.READY:
        raise Conflict(_("订单备好后才能呼叫骑手"), code="courier_not_allowed", fields={"status": [f.status]})
    adapter = get_adapter()
    with transaction.atomic():
        ref = f"D{f.order.number}"
        Fulfilment.objects.filter(pk=f.pk, courier_ref="").update(
            courier=adapter.name, courier_ref=ref, courier_status="requested"
        )
    f.refresh_from_db()
    return resume_courier(f)


def resume_courier(f: Fulfilment) -> Fulfilment:
    """Call the courier for a committed request (again, after a crash: same ``courier_ref``)."""
    if f.courier_status != "requested":
        return f
    store, address = f.store, f.order.address
    courier_order_id = get_adapter().create(
        CourierRequest(
            ref=f.courier_ref,
            pickup={"name": store.name, "address": store.address, "lat": store.latitude, "lng": store.longitude},
            dropoff={
                "contact": address.get("contact", ""),
                "phone": address.get("phone", ""),
                "lat": address.get("latitude"),
                "lng": address.get("longitude"),
            },
            fee=f.fee,
        )
    )
    Fulfilment.objects.filter(pk=f.pk, courier_status="requested").update(
        courier_order_id=courier_order_id[:64], courier_status="created"
    )
    f.courier_order_id, f.courier_status = courier_order_id, "created"
    return f


def resume_pending_requests(limit: int = 100) -> int:
    done = 0
    for f in Fulfilment.objects.filter(courier_status="requested").select_related("order", "store")[:limit]:
        try:
            resume_courier(f)
            done += 1
        except CourierError:
            continue
    return done


def cancel_courier(actor: User, order_id: int) -> Fulfilment:
    from .fulfilment import staff_fulfilment

    f = staff_fulfilment(actor, order_id)
    if f.courier_status not in ("created", "accepted"):
        raise Conflict(_("没有可取消的配送单"), code="courier_not_cancellable")
    get_adapter().cancel(f.courier_order_id, f.courier_ref)
    Fulfilment.objects.filter(pk=f.pk).update(courier_status="cancelled")
    f.courier_status = "cancelled"
    return f


_BOARD_FOR = {"picked_up": FulfilmentStatus.OUT_FOR_DELIVERY, "delivered": FulfilmentStatus.DELIVERED}


def apply_callback(body: bytes, headers: Mapping[str, str]) -> str:
    """A verified courier status: the board follows (replays and out-of-order steps are no-ops)."""
    from .fulfilment import step

    update = get_adapter().parse_callback(body, headers)
    f = (
        Fulfilment.objects.select_related("order")
        .filter(courier_order_id=update.courier_order_id, courier_ref=update.ref)
        .first()
    )
    if f is None:
        return "unknown"
    with transaction.atomic():
        Fulfilment.objects.filter(pk=f.pk).update(courier_status=update.status[:24])
        target = _BOARD_FOR.get(update.status)
        if target is None or f.status == target or f.status in (FulfilmentStatus.DELIVERED, FulfilmentStatus.CANCELLED):
            return "recorded"
        if target == FulfilmentStatus.DELIVERED and f.status == FulfilmentStatus.READY:
            step(f, FulfilmentStatus.OUT_FOR_DELIVERY, None)
        step(f, target, None)
    return "applied"
