"""Marketing housekeeping: settle expired groups, end bargains, expire coupons, rebuild the flash gate."""

from __future__ import annotations

from typing import Any

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import bargains, coupons, flash, groups


@db_periodic_task(crontab(minute="*"))
def expire_groups() -> dict[str, Any]:
    return groups.expire_groups()


@db_periodic_task(crontab(minute="*"))
def reconcile_flash_gate() -> int:
    return flash.reconcile_gate()


@db_periodic_task(crontab(minute="*"))
def release_ended_flash_items() -> int:
    return flash.release_ended_items()


@db_periodic_task(crontab(minute="*/5"))
def expire_bargains() -> int:
    return bargains.expire_bargains()


@db_periodic_task(crontab(minute="7"))
def expire_coupons() -> int:
    return coupons.expire_coupons()
