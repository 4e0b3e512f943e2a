"""Community test helpers: groups made through the service, members who joined and read the rules."""

from __future__ import annotations

from typing import Any

from jishi.accounts.models import User
from jishi.community import groups
from jishi.community.models import Group
from jishi.testing.factories import OperatorFactory, UserFactory
from jishi.testing.shop import fund_wallet

RULES = "1. 友善交流\n2. 不发广告\n3. 红包随缘"


def make_group(**data: Any) -> Group:
    body = {"name": "茶友会", "theme": "一起喝好茶", "rules": RULES, "join_mode": "open", **data}
    return groups.create_group(OperatorFactory(), body)


def member(group: Group, user: User | None = None, *, ack: bool = True, wallet: int = 0) -> User:
    """A user in ``group`` (joined directly; the group's mode is bypassed for invite-only groups)."""
    user = user or UserFactory()
    if group.join_mode == "open":
        groups.join(user, group.pk)
    else:
        from django.db import transaction
        from django.utils import timezone

        with transaction.atomic():
            groups._admit(group, user.pk, now=timezone.now())
    if ack:
        groups.ack_rules(user, group.pk)
    if wallet:
        fund_wallet(user, wallet)
    return user
