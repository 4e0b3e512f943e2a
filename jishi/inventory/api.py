"""Operator stock endpoints (ERP integration)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from jishi.accounts.auth import current_user, operator_auth
from jishi.catalog.services import get_sku
from jishi.core import audit
from jishi.core.api import ObjectId, responses
from jishi.core.errors import NotFound

from . import services
from .models import Location

admin_router = Router(auth=operator_auth)


class StockIn(Schema):
    quantity: int = Field(..., ge=0, le=10**9)
    location: str | None = Field(None, max_length=32, description="库位编码，默认总仓")


class StockOut(Schema):
    sku_id: int
    location: str
    on_hand: int
    reserved: int
    available: int


@admin_router.put("/skus/{sku_id}/stock", response=responses(StockOut))
def set_stock(request: HttpRequest, sku_id: ObjectId, payload: StockIn) -> Any:
    get_sku(sku_id)
    location = None
    if payload.location:
        location = Location.objects.filter(code=payload.location).first()
        if location is None:
            raise NotFound(fields={"location": [payload.location]})
    item = services.set_on_hand(sku_id, payload.quantity, location, reference="api")
    audit.record(
        current_user(request),
        "stock.set",
        f"sku:{sku_id}",
        quantity=payload.quantity,
        location=item.location.code,
    )
    return {
        "sku_id": sku_id,
        "location": item.location.code,
        "on_hand": item.on_hand,
        "reserved": item.reserved,
        "available": item.available,
    }
