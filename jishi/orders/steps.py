"""The pipeline steps orders owns: item prices and shipping."""

from __future__ import annotations

from django.utils.translation import gettext as _

from jishi.core.conf import setting

from .pipeline import ITEM_PRICE, SHIPPING, BaseStep, Checkout, register_step


class ItemPriceStep(BaseStep):
    """Each line starts at the SKU's current price (re-read at checkout, never from the cart)."""

    code = "item_price"
    position = ITEM_PRICE

    def apply(self, checkout: Checkout) -> None:
        for line in checkout.lines:
            line.unit_price = line.list_price


class ShippingStep(BaseStep):
    """Flat fee per order, free over a threshold (0 turns the threshold off) or when a step waived it."""

    code = "shipping"
    position = SHIPPING

    def apply(self, checkout: Checkout) -> None:
        if checkout.shipping_override is not None:
            fee = checkout.shipping_override  # set by a fulfilment mode (pickup: 0)
        elif checkout.free_shipping:
            fee = 0
        else:
            threshold = setting("FREE_SHIPPING_THRESHOLD")
            goods = checkout.goods_amount - checkout.discount_amount
            fee = 0 if threshold and goods >= threshold else setting("SHIPPING_FEE")
        checkout.set_shipping(self.code, _("运费"), fee)


def register() -> None:
    register_step(ItemPriceStep())
    register_step(ShippingStep())
