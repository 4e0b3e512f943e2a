"""Tracked links: one tracking id per buyer and network, a 淘口令-style share code, share text."""

from __future__ import annotations

import json
import secrets
from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from jishi.accounts.models import User
from jishi.core.money import format_yuan

from .goods import price_after_coupon
from .models import Network, RebateGoods, TrackedLink

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 11


def tracking_id_for(user_id: int, network: str) -> str:
    """The local tracking id: PDD's ``custom_parameters`` uid, JD's ``subUnionId``; for Taobao a stand-in
    (the real ``relation_id`` is the one ``taobao.tbk.sc.publisher.info.save`` gives back)."""
    if network == Network.TAOBAO:
        return str(3_000_000_000 + user_id)
    if network == Network.PDD:
        return f"jishi{user_id}"
    return f"jishi_{user_id}"


def link_for(user: User, network: str, *, taobao_session: str = "") -> TrackedLink:
    """The buyer's link on ``network``, made once and reused. JD's subUnionId needs nothing from
    the network; Taobao and Pinduoduo register the buyer first (``registration``), outside any
    transaction, and raise a 4xx (authorisation needed) or 502 (network refused or unreachable)."""
    found = TrackedLink.objects.filter(user=user, network=network).first()
    if found is not None:
        return found
    from .registration import ensure_registered  # registration settles through this module

    return ensure_registered(user, network, taobao_session=taobao_session)


def record_link(user: User, network: str, tracking_id: str = "") -> TrackedLink:
    """Write the buyer's link with a tracking id already known (JD's own, or one a network gave back
    at registration); a race makes one row."""
    found = TrackedLink.objects.filter(user=user, network=network).first()
    if found is not None:
        return found
    tracking_id = tracking_id or tracking_id_for(user.pk, network)
    for _attempt in range(5):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        try:
            with transaction.atomic():
                return TrackedLink.objects.create(user=user, network=network, tracking_id=tracking_id, share_code=code)
        except IntegrityError:
            found = TrackedLink.objects.filter(user=user, network=network).first()
            if found is not None:
                return found
            if TrackedLink.objects.filter(network=network, tracking_id=tracking_id).exists():
                raise
    raise IntegrityError("could not draw a free share code")


def tracked_url(goods: RebateGoods, link: TrackedLink) -> str:
    base = goods.coupon_url or goods.item_url
    if not base:
        return ""
    if link.network == Network.TAOBAO:
        extra = {"relationId": link.tracking_id}
    elif link.network == Network.PDD:
        extra = {"customParameters": json.dumps({"uid": link.tracking_id}, separators=(",", ":"))}
    else:
        extra = {"subUnionId": link.tracking_id}
    return f"{base}{'&' if '?' in base else '?'}{urlencode(extra)}"


def share_code_text(link: TrackedLink) -> str:
    return f"￥{link.share_code}￥"


def share_text(goods: RebateGoods, link: TrackedLink) -> str:
    after = price_after_coupon(goods)
    lines = [f"【{goods.title}】"]
    if goods.price > after:
        lines.append(
            _("领券立减 %(coupon)s，券后 %(price)s")
            % {"coupon": format_yuan(goods.price - after), "price": format_yuan(after)}
        )
    lines.append(_("复制这段话 %(code)s 打开 %(app)s") % {"code": share_code_text(link), "app": goods.app_name})
    return "\n".join(lines)
