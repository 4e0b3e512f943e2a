"""Content's reactions: rewards when a post gains interactions or is published, attribution on orders."""

from __future__ import annotations

from jishi.accounts.models import User
from jishi.core.events import subscribe
from jishi.core.models import OutboxEvent

from . import attribution, rewards
from .models import Post


@subscribe("post.liked")
def reward_on_like(event: OutboxEvent) -> None:
    rewards.evaluate_post(event.payload["post_id"])


@subscribe("post.commented")
def reward_on_comment(event: OutboxEvent) -> None:
    rewards.evaluate_post(event.payload["post_id"])


@subscribe("post.approved")
def points_on_publish(event: OutboxEvent) -> None:
    if event.payload.get("by_operator"):
        return
    author = User.objects.get(pk=event.payload["author_id"])
    form = Post.objects.filter(pk=event.payload["post_id"]).values_list("form", flat=True).first() or ""
    rewards.award_publish_points(author, event.payload["post_id"], form)


@subscribe("order.paid")
def attribute_and_commission(event: OutboxEvent) -> None:
    attribution.settle_paid_order(event.payload)


@subscribe("order.refunded")
def attributed_refund(event: OutboxEvent) -> None:
    attribution.record_refund(event.payload)
