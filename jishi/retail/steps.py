"""Retail's checkout step: a store fulfils the order (delivery, pickup or the counter).

It runs just before orders' shipping step and speaks to it through the checkout's typed fields:
the delivery fee (``shipping_override``), the store's stock location (``location_id``), no address
for pickup and counter sales (``needs_address``), the counter's payment wait (``pay_minutes``).
``orders`` imports nothing of retail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from jishi.core import geo
from jishi.core.errors import Conflict, InvalidInput, NotFound
from jishi.orders.pipeline import SHIPPING, BaseStep, Checkout, register_step

from . import fulfilment, routing
from .conf import retail_setting
from .models import DeliverySlot, FulfilmentMode, Store, StoreStatus

if TYPE_CHECKING:
    from jishi.orders.models import Order


@dataclass(frozen=True)
class StoreChoice:
    """Put in ``checkout.options["store_fulfilment"]`` by retail's own services only: it is not
    JSON, so no request body can forge one."""

    mode: str  # FulfilmentMode
    store_id: int
    slot_id: int | None = None
    clerk_id: int | None = None


def choice_of(checkout: Checkout) -> StoreChoice | None:
    choice = checkout.options.get("store_fulfilment")
    return choice if isinstance(choice, StoreChoice) else None


class StoreFulfilmentStep(BaseStep):
    code = "store_fulfilment"
    position = SHIPPING - 10

    def apply(self, checkout: Checkout) -> None:
        choice = choice_of(checkout)
        if choice is None:
            return
        store = Store.objects.filter(pk=choice.store_id).first()
        if store is None:
            raise NotFound(_("门店不存在"), code="store_not_found", fields={"store_id": [str(choice.store_id)]})
        if store.status != StoreStatus.OPEN:
            raise Conflict(_("门店暂停营业"), code="store_not_open", fields={"store_id": [str(store.pk)]})
        spec: dict[str, object] = {"mode": choice.mode, "store_id": store.pk, "store_name": store.name}
        checkout.location_id = store.location_id
        if choice.mode == FulfilmentMode.DELIVERY:
            spec.update(self._delivery(checkout, store, choice))
        else:
            if choice.mode == FulfilmentMode.PICKUP and not store.pickup_enabled:
                raise Conflict(_("该门店不支持自提"), code="pickup_unavailable", fields={"store_id": [str(store.pk)]})
            checkout.needs_address = False
            checkout.shipping_override = 0
        if choice.mode == FulfilmentMode.OFFLINE:
            checkout.meta["channel"] = "offline"
            checkout.pay_minutes = retail_setting("POS_PAY_MINUTES")
        checkout.meta["fulfilment"] = spec

    def _delivery(self, checkout: Checkout, store: Store, choice: StoreChoice) -> dict[str, object]:
        address = checkout.address
        if address is None:
            raise InvalidInput(_("请选择收货地址"), code="address_required", fields={"address_id": [_("必填")]})
        lat, lng = address.get("latitude"), address.get("longitude")
        if lat is None or lng is None:
            raise InvalidInput(
                _("收货地址缺少位置，请在地图上选点"),
                code="address_without_point",
                fields={"address_id": [str(address["id"])]},
            )
        distance = geo.distance_m(lat, lng, store.latitude, store.longitude)
        if not store.delivery_enabled or not routing.covers(store, lat, lng, distance):
            raise Conflict(_("收货地址不在门店配送范围内"), code="out_of_area", fields={"store_id": [str(store.pk)]})
        goods = checkout.goods_amount - checkout.discount_amount
        if goods < store.min_order_amount:
            raise Conflict(
                _("未达到起送金额 %(yuan)s 元") % {"yuan": f"{store.min_order_amount / 100:.2f}"},
                code="below_minimum_order",
                fields={"min_order_amount": [str(store.min_order_amount)]},
            )
        if choice.slot_id is not None:
            slot = DeliverySlot.objects.filter(pk=choice.slot_id, store=store).first()
            if slot is None:
                raise NotFound(_("配送时段不存在"), code="slot_not_found", fields={"slot_id": [str(choice.slot_id)]})
            if slot.booked >= slot.capacity:
                raise Conflict(_("该配送时段已约满"), code="slot_full", fields={"slot_id": [str(slot.pk)]})
        fee = routing.delivery_fee(store, distance)
        checkout.shipping_override = fee
        return {
            "distance_m": distance,
            "fee": fee,
            "eta_minutes": routing.eta_minutes(store, distance),
            "slot_id": choice.slot_id,
        }

    def commit(self, checkout: Checkout, order: Order) -> None:
        choice = choice_of(checkout)
        if choice is not None:
            fulfilment.open_fulfilment(order, checkout.meta["fulfilment"])


def register() -> None:
    register_step(StoreFulfilmentStep())
