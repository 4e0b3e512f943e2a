"""Demo community: 茶友会, 宝妈团 and 本地生活, each with members who read the rules, topics, a live
拼手气 red packet, a scheduled featured-guest Q&A, a 接龙 sign-up list and a members-only coupon
(fresh buyers untouched)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from jishi.accounts.models import User
from jishi.catalog.models import Product, ProductStatus
from jishi.demo.seed import ADMIN_USERNAME, Progress, demo_buyers

from . import activity, groups, guests, offers, red_packets
from .models import Group, GroupCoupon, GroupRedPacket, GuestSession, MemberStatus

GROUPS = [
    {
        "name": "茶友会",
        "theme": "爱喝茶的朋友一起品鉴好茶：每周新茶试饮、冲泡心得、产区故事",
        "rules": "1. 只聊茶与生活，友善交流\n2. 不发广告和外部链接\n3. 分享好物请用商品卡片\n"
        "4. 红包随缘，抢到记得说谢谢",
        "join_mode": "open",
        "cover_colour": "#e8f5e9",
    },
    {
        "name": "宝妈团",
        "theme": "新手妈妈互助：育儿经验、母婴好物拼单、周末亲子活动",
        "rules": "1. 尊重每一位妈妈的育儿方式\n2. 不晒他人孩子照片\n3. 拼单接龙按时付款\n4. 医疗问题请咨询医生",
        "join_mode": "approval",
        "cover_colour": "#fde7ef",
    },
    {
        "name": "本地生活",
        "theme": "同城好店、周边吃喝玩乐、到店优惠第一时间知道",
        "rules": "1. 推荐请写清店名和位置\n2. 探店真实体验，不收钱刷好评\n3. 活动报名请接龙",
        "join_mode": "invite",
        "cover_colour": "#e3f2fd",
    },
]
# group name → phone suffixes of its members (the first is the owner)
MEMBERS = {"茶友会": "01 02 03 04 05 06", "宝妈团": "07 08 09 03", "本地生活": "10 11 12 01"}


def _people() -> dict[str, User]:
    return {u.phone[-2:]: u for u in demo_buyers() if u.phone}


def _operator() -> User:
    return User.objects.get(username=ADMIN_USERNAME)


def seed_groups(progress: Progress) -> int:
    people = _people()
    operator = _operator()
    created = 0
    for done, spec in enumerate(GROUPS, 1):
        if Group.objects.filter(name=spec["name"]).exists():
            continue
        suffixes = MEMBERS[spec["name"]].split()
        group = groups.create_group(operator, {**spec, "owner_id": people[suffixes[0]].pk})
        owner = groups.active_membership(people[suffixes[0]].pk, group.pk)
        for suffix in suffixes[1:]:
            joined = groups.join_by_invite(people[suffix], owner.invite_code)
            if joined.status == MemberStatus.PENDING:  # the approval group: its owner lets them in
                groups.review_request(people[suffixes[0]], group.pk, people[suffix].pk, approve=True)
        if group.join_mode == "approval":
            groups.join(people["14"], group.pk)  # one request left waiting for the owner
        for suffix in suffixes:
            groups.ack_rules(people[suffix], group.pk)
        created += 1
        progress.update(done, len(GROUPS))
    return created


def _products(n: int) -> list[Product]:
    return list(Product.objects.filter(status=ProductStatus.PUBLISHED).order_by("id")[:n])


def seed_activity(progress: Progress) -> int:
    tea, moms, local = (Group.objects.get(name=spec["name"]) for spec in GROUPS)
    if tea.topics.exists():
        return 0
    p = _people()
    operator = _operator()
    products = _products(2)
    activity.post_topic(
        operator,
        tea.pk,
        kind="announcement",
        title="本周六下午茶会：明前龙井品鉴",
        body="地点：门店二楼，名额 12 位，请在接龙报名。",
    )
    talk = activity.post_topic(
        p["02"], tea.pk, title="大家平时用什么水泡茶？", body="家里用的是过滤水，总觉得差点意思。"
    )
    for suffix, text in (("03", "农夫山泉就挺好"), ("04", "试试低矿化度的山泉水"), ("05", "我用纯净水，绿茶很清爽")):
        activity.reply(p[suffix], talk.pk, text)
    if products:
        activity.post_topic(p["03"], tea.pk, kind="share", title="这款入手不亏", product_id=products[0].pk)
    signup = activity.post_topic(p["01"], tea.pk, kind="signup", title="周六茶会接龙（限 12 位）")
    for suffix, qty in (("02", 1), ("04", 2), ("06", 1)):
        activity.sign_up(p[suffix], signup.pk, qty)
    activity.post_topic(p["01"], tea.pk, kind="poll", title="下次品鉴什么茶？", options=["白茶", "岩茶", "普洱"])
    activity.post_topic(p["08"], moms.pk, title="一岁宝宝辅食怎么安排？", body="求有经验的妈妈分享一周食谱")
    mom_signup = activity.post_topic(p["07"], moms.pk, kind="signup", title="纸尿裤拼单接龙（满 20 包成团）")
    activity.sign_up(p["08"], mom_signup.pk, 4, "L 码")
    activity.sign_up(p["09"], mom_signup.pk, 6, "XL 码")
    activity.post_topic(p["11"], local.pk, title="新开的湘菜馆探店", body="人均 80，剁椒鱼头很正宗，周末要排队。")
    if len(products) > 1:
        activity.post_topic(p["12"], local.pk, kind="share", title="到店自提更划算", product_id=products[1].pk)
    progress.update(1, 1)
    return 1


def seed_red_packet(progress: Progress) -> int:
    tea = Group.objects.get(name="茶友会")
    if GroupRedPacket.objects.filter(group=tea).exists():
        return 0
    p = _people()
    packet = red_packets.send(p["02"], tea.pk, amount=6_666, shares=5, split="random", greeting="茶会顺利，大吉大利")
    red_packets.claim(p["03"], packet.pk)
    red_packets.claim(p["05"], packet.pk)  # 01 (the owner) and 04, 06 still have shares waiting
    progress.update(1, 1)
    return 1


def seed_guest_session(progress: Progress) -> int:
    tea = Group.objects.get(name="茶友会")
    if GuestSession.objects.filter(group=tea).exists():
        return 0
    guest = _people()["13"]
    start = (timezone.localtime() + timedelta(days=1)).replace(hour=20, minute=0, second=0, microsecond=0)
    guests.schedule(
        _operator(),
        tea.pk,
        guest_id=guest.pk,
        guest_title="国家一级评茶师",
        title="大咖站台：春茶怎么挑、怎么存",
        intro="明晚 8 点，评茶师在线答疑，欢迎提前留言提问。",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
    )
    progress.update(1, 1)
    return 1


def seed_group_coupon(progress: Progress) -> int:
    """茶友会's members-only ¥10-off coupon (满99减10), on marketing's coupon model."""
    from jishi.marketing import coupons

    tea = Group.objects.get(name="茶友会")
    if GroupCoupon.objects.filter(group=tea).exists():
        return 0
    operator = _operator()
    template = coupons.save_template(
        operator,
        {
            "name": "茶友会专享券",
            "kind": "threshold",
            "amount": 1_000,
            "min_spend": 9_900,
            "valid_days": 30,
            "total_quantity": 500,
            "claimable": True,
        },
    )
    offers.set_coupon(operator, tea.pk, template.pk)
    coupons.claim(_people()["02"], template.pk)
    progress.update(1, 1)
    return 1


STEPS: list[tuple[str, Callable[[Progress], int]]] = [
    ("community groups", seed_groups),
    ("community activity", seed_activity),
    ("community red packet", seed_red_packet),
    ("community guest Q&A", seed_guest_session),
    ("community group coupon", seed_group_coupon),
]
