"""Checkout step: an order carries the referral code it was placed under (share link, poster)."""

from __future__ import annotations

from jishi.orders.pipeline import ITEM_PRICE, BaseStep, Checkout, register_step


class ReferralStep(BaseStep):
    code = "distribution_ref"
    position = ITEM_PRICE + 1

    def apply(self, checkout: Checkout) -> None:
        ref = checkout.options.get("ref")
        if ref:
            checkout.meta["ref"] = str(ref)[:16]


def register() -> None:
    register_step(ReferralStep())
