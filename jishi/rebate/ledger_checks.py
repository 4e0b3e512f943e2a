"""The book held against rebate orders and their credits (part of ``jishi check-ledger``)."""

from __future__ import annotations

from jishi.core import ledger

from .reconcile import check_rebates

ledger.register_check("rebate")(check_rebates)
