"""Marketing's writers, by campaign: coupons, flash sales, 拼团 and bargains (one module each)."""

from __future__ import annotations

from . import bargains, coupons, flash, groups

__all__ = ["bargains", "coupons", "flash", "groups"]
