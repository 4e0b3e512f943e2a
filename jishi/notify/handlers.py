"""Outbox subscribers that turn other apps' events into inbox notices.

Each handler runs once per event (the outbox's handler record) and every notice carries a key
derived from the event's subject (the order, case, withdrawal…), so even a second event about
the same fact writes nothing twice.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from jishi.core.events import subscribe
from jishi.core.models import OutboxEvent
from jishi.core.money import format_yuan

from .services import notify_member, notify_members


def _p(event: OutboxEvent) -> dict[str, Any]:
    return event.payload


# --- orders and after-sales ------------------------------------------------------------------

# A store order's steps the buyer hears of (new retail's board), with what to tell them.
STORE_STEPS: dict[str, tuple[str, str]] = {
    "picking": (N_("门店正在拣货"), N_("门店正在为你的订单 %(number)s 拣货。")),
    "out_for_delivery": (N_("订单配送中"), N_("你的订单 %(number)s 已从门店出发，正在配送。")),
    "delivered": (N_("订单已送达"), N_("你的订单 %(number)s 已送达，欢迎再次光临。")),
    "ready_for_pickup": (
        N_("商品已备好，请到店自提"),
        N_("订单 %(number)s 已备好，到店出示取货码 %(code)s 即可取货。"),
    ),
    "picked_up": (N_("已完成自提"), N_("订单 %(number)s 已取货，感谢光临。")),
}


@subscribe("retail.fulfilment")
def store_fulfilment(event: OutboxEvent) -> None:
    p = _p(event)
    step = STORE_STEPS.get(p.get("status") or "")
    if step is None:
        return
    title, body = step
    notify_member(
        p["user_id"],
        category="order",
        title=_(title),
        body=_(body) % {"number": p.get("number", ""), "code": p.get("pickup_code", "")},
        link=f"/orders/{p['order_id']}/",
        key=f"order:{p['order_id']}:store:{p['status']}",
    )


@subscribe("order.paid")
def order_paid(event: OutboxEvent) -> None:
    p = _p(event)
    notify_member(
        p["user_id"],
        category="order",
        title=_("订单已支付"),
        body=_("订单 %(number)s 已支付 %(amount)s，我们会尽快为你发货。")
        % {"number": p["number"], "amount": format_yuan(p["paid_amount"])},
        link=f"/orders/{p['order_id']}/",
        key=f"order:{p['order_id']}:paid",
    )


@subscribe("order.shipped")
def order_shipped(event: OutboxEvent) -> None:
    p = _p(event)
    tracking = p.get("tracking_number") or ""
    body = (
        _("你的订单已由 %(carrier)s 发出，运单号 %(tracking)s。")
        % {"carrier": p.get("carrier") or "", "tracking": tracking}
        if tracking
        else _("你的订单已发货。")
    )
    notify_member(
        p["user_id"],
        category="order",
        title=_("订单已发货"),
        body=body,
        link=f"/orders/{p['order_id']}/",
        key=f"order:{p['order_id']}:shipped",
    )


@subscribe("order.refunded")
def after_sale_approved(event: OutboxEvent) -> None:
    p = _p(event)
    notify_member(
        p["user_id"],
        category="after_sale",
        title=_("退款已到账"),
        body=_("订单 %(number)s 的退款 %(amount)s 已原路退回。")
        % {"number": p["number"], "amount": format_yuan(p["amount"])},
        link=f"/orders/{p['order_id']}/",
        key=f"after_sale:{p.get('after_sale_id') or event.pk}:refunded",
    )


@subscribe("after_sale.approved")
def after_sale_accepted(event: OutboxEvent) -> None:
    p = _p(event)
    notify_member(
        p["user_id"],
        category="after_sale",
        title=_("售后申请已同意"),
        body=_("订单 %(number)s 的退款 %(amount)s 正在原路退回，到账后会再通知你。")
        % {"number": p["number"], "amount": format_yuan(p["amount"])},
        link=f"/orders/{p['order_id']}/",
        key=f"after_sale:{p['after_sale_id']}:approved",
    )


@subscribe("after_sale.rejected")
def after_sale_rejected(event: OutboxEvent) -> None:
    p = _p(event)
    notify_member(
        p["user_id"],
        category="after_sale",
        title=_("售后申请未通过"),
        body=_("原因：%(reason)s") % {"reason": p.get("reason") or _("未说明")},
        link=f"/orders/{p['order_id']}/",
        key=f"after_sale:{p['after_sale_id']}:rejected",
    )


# --- earnings --------------------------------------------------------------------------------


@subscribe("commission.frozen")
def commission_frozen(event: OutboxEvent) -> None:
    p = _p(event)
    for share in p["amounts"]:
        notify_member(
            share["user_id"],
            category="system",
            title=_("你有一笔新佣金"),
            body=_("订单 %(number)s 为你带来佣金 %(amount)s，确认收货 %(days)d 天后可提现。")
            % {"number": p["order_number"], "amount": format_yuan(share["amount"]), "days": p["freeze_days"]},
            link="/promoter/commissions/",
            key=f"commission:{p['source']}:{p['order_id']}:frozen",
        )


@subscribe("commission.available")
def commission_available(event: OutboxEvent) -> None:
    p = _p(event)
    notify_member(
        p["user_id"],
        category="system",
        title=_("佣金已可提现"),
        body=_("订单 %(number)s 的佣金 %(amount)s 已解冻，可以提现了。")
        % {"number": p["order_number"], "amount": format_yuan(p["amount"])},
        link="/promoter/withdraw/",
        key=f"commission:{p['commission_id']}:available",
    )


@subscribe("withdrawal.paid")
def withdrawal_paid(event: OutboxEvent) -> None:
    p = _p(event)
    notify_member(
        p["user_id"],
        category="system",
        title=_("提现已到账"),
        body=_("你申请的提现 %(amount)s 已打款，实到 %(net)s。")
        % {"amount": format_yuan(p["amount"]), "net": format_yuan(p["net"])},
        link="/promoter/",
        key=f"withdrawal:{p['withdrawal_id']}:paid",
    )


@subscribe("withdrawal.rejected")
def withdrawal_rejected(event: OutboxEvent) -> None:
    p = _p(event)
    notify_member(
        p["user_id"],
        category="system",
        title=_("提现申请未通过"),
        body=_("提现 %(amount)s 已退回佣金余额。原因：%(reason)s")
        % {"amount": format_yuan(p["amount"]), "reason": p.get("reason") or _("未说明")},
        link="/promoter/",
        key=f"withdrawal:{p['withdrawal_id']}:rejected",
    )


# --- loyalty and marketing ------------------------------------------------------------------------


@subscribe("red_packet.granted")
def red_packet_granted(event: OutboxEvent) -> None:
    p = _p(event)
    notify_member(
        p["user_id"],
        category="system",
        title=_("你收到一个 %(amount)s 红包") % {"amount": format_yuan(p["amount"])},
        body=p.get("reason") or "",
        link="/loyalty/red-packets/",
        key=f"red_packet:{p['packet_id']}",
    )


@subscribe("loyalty.level_changed")
def level_changed(event: OutboxEvent) -> None:
    p = _p(event)
    name = p.get("to_level") or _("普通会员")
    up = p.get("direction") == "up"
    notify_member(
        p["user_id"],
        category="system",
        title=(_("恭喜升级为%(name)s") if up else _("会员等级调整为%(name)s")) % {"name": name},
        body=_("当前成长值 %(growth)s") % {"growth": p.get("growth", 0)},
        link="/loyalty/",
        key=f"level_changed:{event.pk}",
    )


@subscribe("group.completed")
def group_completed(event: OutboxEvent) -> None:
    p = _p(event)
    notify_members(
        p["user_ids"],
        category="promotion",
        title=_("拼团成功"),
        body=_("你参加的拼团已成团，我们会尽快发货。"),
        link="/orders/",
        key=f"group:{p['group_id']}:completed",
    )


@subscribe("group.failed")
def group_failed(event: OutboxEvent) -> None:
    p = _p(event)
    notify_members(
        p["user_ids"],
        category="promotion",
        title=_("拼团未成功"),
        body=_("很遗憾，拼团未在时限内成团，已付款项将原路退回。"),
        link="/groups/",
        key=f"group:{p['group_id']}:failed",
    )


@subscribe("bargain.floor_reached")
def bargain_succeeded(event: OutboxEvent) -> None:
    p = _p(event)
    notify_member(
        p["user_id"],
        category="promotion",
        title=_("砍价成功"),
        body=_("已砍到底价 %(price)s，快去下单吧。") % {"price": format_yuan(p["floor_price"])},
        link=f"/bargains/{p['bargain_id']}/",
        key=f"bargain:{p['bargain_id']}:floor",
    )


# --- community ----------------------------------------------------------------------------------


@subscribe("community.red_packet.claimed")
def group_red_packet_claimed(event: OutboxEvent) -> None:
    p = _p(event)
    notify_member(
        p["user_id"],
        category="community",
        title=_("你领到一个 %(amount)s 群红包") % {"amount": format_yuan(p["amount"])},
        body=_("%(amount)s 已存入你的余额。") % {"amount": format_yuan(p["amount"])},
        link=f"/community/red-packets/{p['packet_id']}/",
        key=f"community_red_packet:{p['packet_id']}:claimed:{p['user_id']}",
    )


@subscribe("community.red_packet.refunded")
def group_red_packet_refunded(event: OutboxEvent) -> None:
    p = _p(event)
    if p.get("source") != "wallet":
        return  # an operator's packet goes back to the budget, not to a person
    notify_member(
        p["user_id"],
        category="community",
        title=_("群红包未领完，已退回 %(amount)s") % {"amount": format_yuan(p["amount"])},
        body=_("你发的群红包被领取 %(claimed)d/%(shares)d 份，剩余 %(amount)s 已退回你的余额。")
        % {"claimed": p["claimed_count"], "shares": p["shares"], "amount": format_yuan(p["amount"])},
        link=f"/community/red-packets/{p['packet_id']}/",
        key=f"community_red_packet:{p['packet_id']}:refunded",
    )


# --- content ---------------------------------------------------------------------------------


@subscribe("post.approved")
def post_approved(event: OutboxEvent) -> None:
    p = _p(event)
    if p.get("by_operator"):
        return
    notify_member(
        p["author_id"],
        category="community",
        title=_("笔记已发布"),
        body=_("你的笔记通过了审核，现在所有人都能看到。"),
        link=f"/content/p/{p['post_id']}/",
        key=f"post:{p['post_id']}:approved:{event.pk}",
    )


@subscribe("post.rejected")
def post_rejected(event: OutboxEvent) -> None:
    p = _p(event)
    notify_member(
        p["author_id"],
        category="community",
        title=_("笔记未通过审核"),
        body=_("原因：%(reason)s") % {"reason": p.get("reason") or _("未说明")},
        link=f"/content/p/{p['post_id']}/edit/",
        key=f"post:{p['post_id']}:rejected:{event.pk}",
    )


@subscribe("post.rewarded")
def post_rewarded(event: OutboxEvent) -> None:
    p = _p(event)
    parts = []
    if p.get("red_packet"):
        parts.append(_("红包 %(amount)s") % {"amount": format_yuan(p["red_packet"])})
    if p.get("points"):
        parts.append(_("%(points)d 积分") % {"points": p["points"]})
    notify_member(
        p["author_id"],
        category="community",
        title=_("笔记获得奖励"),
        body=_("你的笔记互动达标，获得 %(reward)s。") % {"reward": "、".join(str(x) for x in parts)},
        link=f"/content/p/{p['post_id']}/",
        key=f"post-reward:{p['grant_id']}",
    )
