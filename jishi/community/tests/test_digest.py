"""The daily digest: hot topics by distinct participants, skipped for the active and the opted out, once a day."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jishi.community import activity, digest, groups
from jishi.community.models import DigestRun, Membership
from jishi.notify.models import Message
from jishi.testing.factories import UserFactory

from .conftest import make_group, member

pytestmark = pytest.mark.django_db


def _age(user, hours: int) -> None:
    Membership.objects.filter(user=user).update(last_active_at=timezone.now() - timedelta(hours=hours))


def test_digest_reaches_quiet_members_once_a_day() -> None:
    group = make_group(owner_id=UserFactory().pk)
    quiet, busy, opted = member(group), member(group), member(group)
    talk = activity.post_topic(busy, group.pk, title="明前龙井到了")
    for _i in range(2):
        activity.reply(member(group), talk.pk, "想要")
    activity.post_topic(busy, group.pk, title="冷门话题")
    groups.set_digest_opt_out(opted, group.pk, True)
    for user in (quiet, opted, group.owner):
        _age(user, 48)
    Membership.objects.filter(user__in=[m.user_id for m in Membership.objects.filter(group=group)]).exclude(
        user__in=[quiet, opted, group.owner]
    ).update(last_active_at=timezone.now())

    run = digest.send_group_digest(group)
    assert run is not None
    assert (run.sent_count, run.skipped_opted_out) == (2, 1)
    assert run.body.splitlines()[0] == "热议：明前龙井到了（3 人参与）"
    assert set(Message.objects.values_list("user_id", flat=True)) == {quiet.pk, group.owner_id}
    assert digest.send_group_digest(group) is None
    assert digest.send_daily_digests() == 0
    assert Message.objects.count() == 2
    assert DigestRun.objects.count() == 1


def test_nothing_to_say_sends_nothing() -> None:
    group = make_group()
    _age(member(group), 48)
    assert digest.send_daily_digests() == 0
    assert Message.objects.count() == 0


def test_tomorrow_brings_a_new_digest() -> None:
    group = make_group()
    quiet = member(group)
    author = member(group)
    activity.post_topic(author, group.pk, title="今天")
    _age(quiet, 48)
    assert digest.send_group_digest(group) is not None
    tomorrow = timezone.now() + timedelta(days=1)
    activity.post_topic(author, group.pk, title="明天", now=tomorrow)
    from jishi.community.models import Topic

    Topic.objects.filter(title="明天").update(created_at=tomorrow)
    run = digest.send_group_digest(group, now=tomorrow + timedelta(minutes=1))
    assert run is not None
    assert "明天" in run.body and "今天" not in run.body
    assert Message.objects.filter(user=quiet).count() == 2


def test_other_apps_add_sections() -> None:
    group = make_group()
    _age(member(group), 48)
    digest.register_section("test_batch", lambda w: [f"今日团购：{w.group.name} 鲜桃"])
    try:
        run = digest.send_group_digest(group)
    finally:
        digest._sections[:] = [s for s in digest._sections if s[0] != "test_batch"]
    assert run is not None
    assert run.body == "今日团购：茶友会 鲜桃"


def test_todays_group_buy_batch_is_in_the_digest() -> None:
    from jishi.groupbuy.tests.conftest import make_batch

    group = make_group()
    _age(member(group), 48)
    batch, items = make_batch(prices=(1290, 990), group_prices=(990, 690))
    names = [i.sku.product.name for i in items]
    cutoff = timezone.localtime(batch.cutoff_at).strftime("%m-%d %H:%M")

    run = digest.send_group_digest(group)

    assert run is not None
    assert f"今日团购：今日团，{cutoff} 截单（{names[0]} ¥9.90、{names[1]} ¥6.90）" in run.body.splitlines()
