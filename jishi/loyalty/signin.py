"""Daily sign-in: once per buyer per shop day, streaks with tiered points and a reset mode."""

from __future__ import annotations

import calendar as pycalendar
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.core.errors import Conflict
from jishi.core.sql import insert_once

from . import points
from .conf import loyalty_settings
from .locks import lock_member
from .models import SignIn, SignInReset


class AlreadySignedIn(Conflict):
    code = "already_signed_in"
    default_message = _("今天已经签到过了")


def tier_points(streak: int, tiers: list[dict[str, int]]) -> int:
    """Points for the ``streak``-th day: the tier with the highest ``day`` not above it."""
    best = 0
    best_day = 0
    for tier in tiers:
        day, value = int(tier.get("day", 0)), int(tier.get("points", 0))
        if day <= streak and day >= best_day:
            best, best_day = value, day
    return best


def _starts_new_period(day: date, mode: str) -> bool:
    if mode == SignInReset.WEEKLY:
        return day.weekday() == 0
    if mode == SignInReset.MONTHLY:
        return day.day == 1
    return False


def next_streak(user_id: int, day: date, mode: str) -> int:
    if _starts_new_period(day, mode):
        return 1
    previous = SignIn.objects.filter(user_id=user_id, day=day - timedelta(days=1)).values_list("streak", flat=True)
    prev = previous.first()
    return (prev or 0) + 1


def sign_in(user: Any, now: datetime | None = None) -> SignIn:
    """Sign the buyer in for today (shop time zone); a second sign-in the same day is 409."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    cfg = loyalty_settings()
    with transaction.atomic():
        lock_member(user.pk)  # parallel sign-ins of one buyer queue here; the unique row decides anyway
        streak = next_streak(user.pk, day, cfg.sign_in_reset)
        awarded = tier_points(streak, cfg.sign_in_tiers)
        row_id = insert_once(
            SignIn, {"user": user.pk, "day": day, "streak": streak, "points": awarded}, conflict=["user", "day"]
        )
        if row_id is None:
            raise AlreadySignedIn()
        points.credit(
            user.pk,
            awarded,
            kind="points_sign_in",
            key=f"points:sign_in:{user.pk}:{day.isoformat()}",
            reference=f"sign_in:{row_id}",
            memo=str(_("连续签到第 %(n)s 天") % {"n": streak}),
            now=now,
        )
    return SignIn.objects.get(pk=row_id)


def current_streak(user_id: int, now: datetime | None = None) -> int:
    """The streak shown today: today's if signed, else yesterday's (still alive), else 0."""
    day = timezone.localdate(now or timezone.now())
    row = SignIn.objects.filter(user_id=user_id, day__gte=day - timedelta(days=1)).order_by("-day").first()
    if row is None:
        return 0
    if row.day != day and _starts_new_period(day, loyalty_settings().sign_in_reset):
        return 0
    return row.streak


def signed_in_today(user_id: int, now: datetime | None = None) -> bool:
    return SignIn.objects.filter(user_id=user_id, day=timezone.localdate(now or timezone.now())).exists()


def month_calendar(user_id: int, year: int, month: int, now: datetime | None = None) -> dict[str, Any]:
    """The sign-in calendar of one month: weeks of days with signed/today flags, and the streak."""
    today = timezone.localdate(now or timezone.now())
    first = date(year, month, 1)
    last = date(year, month, pycalendar.monthrange(year, month)[1])
    signed = dict(SignIn.objects.filter(user_id=user_id, day__range=(first, last)).values_list("day", "points"))
    weeks = []
    for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append(
            [
                {
                    "day": d,
                    "in_month": d.month == month,
                    "signed": d in signed,
                    "points": signed.get(d, 0),
                    "today": d == today,
                }
                for d in week
            ]
        )
    cfg = loyalty_settings()
    streak = current_streak(user_id, now)
    signed_today = SignIn.objects.filter(user_id=user_id, day=today).exists()
    return {
        "year": year,
        "month": month,
        "weeks": weeks,
        "signed_days": len(signed),
        "streak": streak,
        "signed_today": signed_today,
        # the next sign-in (today's if not yet signed, else tomorrow's) continues the streak
        "next_points": tier_points(streak + 1, cfg.sign_in_tiers),
        "tiers": sorted(cfg.sign_in_tiers, key=lambda t: t.get("day", 0)),
    }
