"""Paying orders, provider notifies, the sandbox provider's approve step, and the wallet."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema

from jishi.accounts.auth import buyer_auth, current_user, operator_auth
from jishi.core.api import ObjectId, responses
from jishi.core.errors import NotFound

from . import services
from .models import Payment, PaymentMethod

router = Router(auth=buyer_auth)
admin_router = Router(auth=operator_auth)


class PayIn(Schema):
    method: PaymentMethod


class PayOut(Schema):
    payment_id: int
    payment_no: str
    status: str
    pay_url: str
    params: dict[str, Any]


@router.post("/orders/{order_id}/pay", response=responses(PayOut, provider=True))
def pay_order(request: HttpRequest, order_id: ObjectId, payload: PayIn) -> Any:
    return services.start_payment(current_user(request), order_id, payload.method)


class PaymentOut(Schema):
    id: int
    payment_no: str
    order_id: int
    method: str
    amount: int
    status: str
    created_at: datetime
    paid_at: datetime | None


def payment_body(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.pk,
        "payment_no": payment.payment_no,
        "order_id": payment.order_id,
        "method": payment.method,
        "amount": payment.amount,
        "status": payment.status,
        "created_at": payment.created_at,
        "paid_at": payment.paid_at,
    }


@router.get("/payments/{payment_id}", response=responses(PaymentOut))
def get_payment(request: HttpRequest, payment_id: ObjectId) -> Any:
    payment = Payment.objects.filter(pk=payment_id, user=current_user(request)).first()
    if payment is None:
        raise NotFound()
    return payment_body(payment)


@router.post("/payments/sandbox/{payment_id}/complete", response=responses(PaymentOut))
def complete_sandbox(request: HttpRequest, payment_id: ObjectId) -> Any:
    """Plays the buyer approving at the provider; the signed notify follows asynchronously."""
    payment = services.approve_sandbox_payment(current_user(request), payment_id)
    payment.refresh_from_db()
    return payment_body(payment)


@router.post("/payments/notify/{method}", auth=None, include_in_schema=False)
def provider_notify(request: HttpRequest, method: str) -> HttpResponse:
    if method not in PaymentMethod.values or method == PaymentMethod.WALLET:
        raise NotFound()
    status, content_type, body = services.receive_notify(method, request.body, request.headers)
    return HttpResponse(body, status=status, content_type=content_type)


class WalletEntryOut(Schema):
    amount: int
    kind: str
    reference: str
    memo: str
    created_at: datetime


class WalletOut(Schema):
    balance: int
    entries: list[WalletEntryOut]


@router.get("/wallet", response=responses(WalletOut))
def get_wallet(request: HttpRequest) -> Any:
    return services.wallet(current_user(request))


class TopUpIn(Schema):
    phone: str = Field(..., min_length=11, max_length=20)
    amount: int = Field(..., ge=1, le=10**10)
    note: str = Field("", max_length=200)


class TopUpOut(Schema):
    phone: str
    balance: int


@admin_router.post("/wallet/top-up", response=responses(TopUpOut))
def top_up(request: HttpRequest, payload: TopUpIn) -> Any:
    balance = services.top_up(current_user(request), payload.phone, payload.amount, payload.note)
    return {"phone": payload.phone, "balance": balance}
