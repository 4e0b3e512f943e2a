"""Community pages in headless Chromium against a live server: join from an invite link, acknowledge
the rules, open a group red packet."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, expect, sync_playwright

from jishi.community import activity, red_packets
from jishi.community.models import Membership, MemberStatus, RulesAcknowledgement
from jishi.core import ledger
from jishi.core.ledger import check_ledger
from jishi.core.models import AccountKind
from jishi.testing.factories import DEFAULT_PASSWORD, UserFactory

from .conftest import RULES, make_group, member

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path("/tmp/shots-community")

pytestmark = [
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page: Page, base: str, user: Any, next_path: str) -> None:
    page.goto(f"{base}/login/?next={next_path}")
    page.fill("input[name=phone] >> nth=0", user.phone)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[value=login]")
    page.wait_for_url(f"**{next_path}")


def test_join_from_an_invite_link_acknowledge_rules_and_open_a_red_packet(live_server: Any, page: Page) -> None:
    group = make_group(name="茶友会", theme="爱喝茶的朋友一起品鉴好茶", join_mode="invite")
    inviter = member(group, UserFactory(nickname="老李"), wallet=100_000)
    for n in range(3):
        member(group, UserFactory(nickname=f"茶友{n}"))
    activity.post_topic(inviter, group.pk, title="明前龙井到货了", body="今年的新茶，欢迎品尝")
    code = Membership.objects.get(user=inviter).invite_code
    newcomer = UserFactory(nickname="小王")

    log_in(page, live_server.url, newcomer, f"/community/join/{code}")
    expect(page.locator("h2")).to_have_text("茶友会")
    expect(page.locator(".cm-invite")).to_contain_text("老李 邀请你加入")
    shot(page, "invite")
    page.click("[data-test=accept-invite]")
    page.wait_for_url(f"**/community/groups/{group.pk}/")
    expect(page.locator("[data-test=rules]")).to_contain_text("不发广告")
    shot(page, "rules")
    page.click("[data-test=ack]")
    expect(page.locator("[data-test=rules]")).to_have_count(0)
    assert Membership.objects.get(group=group, user=newcomer).status == MemberStatus.ACTIVE
    assert list(RulesAcknowledgement.objects.filter(user=newcomer).values_list("version", "rules")) == [(1, RULES)]

    packet = red_packets.send(inviter, group.pk, amount=8_888, shares=4, split="random", greeting="欢迎新朋友")
    page.reload()
    shot(page, "group")
    page.click("[data-test=packet]")
    page.wait_for_url(f"**/community/red-packets/{packet.pk}/")
    expect(page.locator("[data-test=open]")).to_be_visible()
    shot(page, "envelope")
    page.click("[data-test=open]")
    page.wait_for_url("**opened=*")
    got = ledger.balance_of(newcomer.pk, AccountKind.WALLET)
    assert got >= 1
    expect(page.locator("[data-test=amount]")).to_have_text(f"¥{got // 100}.{got % 100:02d}")
    expect(page.locator(".cm-claims")).to_contain_text("小王")
    page.wait_for_timeout(900)  # let the opening animation finish before the picture
    shot(page, "opened")
    assert check_ledger() == []


def test_a_sign_up_list_page(live_server: Any, page: Page) -> None:
    group = make_group(owner_id=UserFactory().pk)
    buyer = member(group, UserFactory(nickname="宝妈小林"))
    signup = activity.post_topic(group.owner, group.pk, kind="signup", title="周六亲子烘焙课接龙")
    log_in(page, live_server.url, buyer, f"/community/topics/{signup.pk}/")
    page.fill("input[name=quantity]", "2")
    page.fill("input[name=note]", "带两个娃")
    page.click("[data-test=sign-up]")
    expect(page.locator(".cm-signups")).to_contain_text("宝妈小林")
    expect(page.locator(".cm-signups")).to_contain_text("×2")
    shot(page, "signup")


def test_the_weekly_fan_ranking_from_the_group_page(live_server: Any, page: Page) -> None:
    group = make_group(name="茶友会", theme="爱喝茶的朋友一起品鉴好茶")
    names = ["茶小白", "普洱控", "龙井阿姨", "老白茶", "岩茶哥", "滇红妹"]
    people = [member(group, UserFactory(nickname=n)) for n in names]
    me = member(group, UserFactory(nickname="小王"))
    # Topics from the first four (fewer for each), replies and likes from everyone else.
    for i, author in enumerate(people[:4]):
        for n in range(4 - i):
            topic = activity.post_topic(author, group.pk, title=f"{author.nickname}的第{n + 1}泡茶", body="好喝")
            for other in people[4:]:
                activity.reply(other, topic.pk, "学到了")
                activity.like(other, topic.pk)
    activity.reply(me, topic.pk, "下次带上我")

    log_in(page, live_server.url, me, f"/community/groups/{group.pk}/")
    expect(page.locator("[data-test=fans] li")).to_have_count(3)
    expect(page.locator("[data-test=fans] li").first).to_contain_text("茶小白")
    page.click("[data-test=ranking-link]")
    page.wait_for_url(f"**/community/groups/{group.pk}/ranking/")

    podium = page.locator("[data-test=podium] li")
    expect(podium).to_have_count(3)
    expect(page.locator(".place-1")).to_contain_text("茶小白")
    expect(page.locator(".place-1 .cm-badge")).to_have_text("灵魂人物")
    expect(page.locator(".place-2 .cm-badge")).to_have_text("核心粉丝")
    # 茶小白 28 (4 topics, 8 likes), 普洱控 21, 岩茶哥 and 滇红妹 20 each (10 replies; the earlier
    # joiner first), 龙井阿姨 14, 老白茶 7, me 2 (one reply).
    expect(page.locator(".place-3")).to_contain_text("岩茶哥")
    rows = page.locator("[data-test=ranking] li")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("滇红妹")
    expect(rows.first).to_contain_text("回复 10")
    expect(rows.first.locator(".cm-badge")).to_have_text("活跃达人")
    expect(page.locator("[data-test=my-rank]")).to_contain_text("第 7 名")
    shot(page, "ranking")

    page.click("[data-test=prev-week]")
    expect(page.locator(".empty")).to_contain_text("还没有人上榜")
    expect(page.locator("[data-test=my-rank]")).to_contain_text("我还未上榜")
