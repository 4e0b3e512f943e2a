"""The book held against group red packets (part of ``jishi check-ledger``)."""

from __future__ import annotations

from jishi.core import ledger

from .red_packets import check_red_packets

ledger.register_check("community")(check_red_packets)
