"""Demo content: 32 posts in the four forms (a few waiting for moderation), four topics, likes and
comments (the busiest posts have earned their creators red packets and points under an active
rule at the default threshold), banned words, and orders attributed to posts. Fresh buyers untouched."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from jishi.accounts.models import User
from jishi.catalog.models import Product, ProductStatus
from jishi.core import ledger
from jishi.core.events import deliver_pending
from jishi.core.models import AccountKind
from jishi.demo.seed import Progress, demo_buyers
from jishi.orders import services as orders
from jishi.orders.models import Order
from jishi.payments.services import pay_with_wallet

from . import services
from .conf import content_settings
from .models import BannedWord, Comment, Like, Post, PostForm, PostStatus, RewardRule, Topic

MARKER = "demo_content"
FORMS = [PostForm.LIST, PostForm.REVIEW, PostForm.SHARE, PostForm.KOL]
TITLES = {
    PostForm.LIST: "本月回购清单：{name}等好物",
    PostForm.REVIEW: "{name} 深度测评",
    PostForm.SHARE: "达人分享｜我是怎么用{name}的",
    PostForm.KOL: "被问爆的{name}，真的值得入",
}
BODIES = {
    PostForm.LIST: (
        "<p>这个月用下来觉得<strong>不错</strong>的几样：</p><ul><li>{name}：性价比高</li><li>包装用心，发货快</li></ul>"
    ),
    PostForm.REVIEW: (
        "<h3>结论先说</h3><p>{name}整体表现超出预期，细节见下。</p><blockquote>适合日常自用和送人。</blockquote>"
    ),
    PostForm.SHARE: "用{name}大半年了，分享几点心得：\n先看说明再用，效果差别很大。\n搭配季节换着用更好。",
    PostForm.KOL: "<p>最近被朋友安利了{name}，入手后真香！<em>链接放下面了</em>。</p>",
}
SCORES = [{"aspect": "品质", "score": 5}, {"aspect": "性价比", "score": 4}, {"aspect": "包装", "score": 5}]
TOPICS = [
    ("夏日清凉好物", "热到不想出门？这些让夏天舒服一点", "#1f9d8b"),
    ("品质茶生活", "一杯好茶的讲究", "#6a8d3a"),
    ("居家好物清单", "住得舒服，从小物件开始", "#c4772b"),
    ("新人必买", "第一次来集市，先看这些", "#e64a3b"),
]
POSTS = 32
PENDING = {29, 30}  # left in the moderation queue
REJECTED = {31}
BUSY = range(0, 6)  # each gets 11+ likes: red packet + points under the demo rule
BUYER_ORDERS = ("09", "10", "11", "12")


def _people() -> dict[str, User]:
    return {u.phone[-2:]: u for u in demo_buyers() if u.phone}


def _products() -> list[Product]:
    return list(
        Product.objects.filter(status=ProductStatus.PUBLISHED, skus__is_active=True).distinct().order_by("id")[:40]
    )


def seed_rules(progress: Progress) -> int:
    from jishi.loyalty.models import RedPacketBudget
    from jishi.loyalty.red_packets import create_budget, fund_budget

    created = 0
    if not RedPacketBudget.objects.filter(code="content").exists():
        create_budget(None, "content", "内容创作奖励")
        created += 1
    fund_budget(None, "content", 100_000, key="demo-content-initial", note="演示预算")
    threshold = content_settings().reward_threshold
    _rule, made = RewardRule.objects.get_or_create(
        name="互动满 10 人得红包",
        defaults={
            "threshold": threshold,
            "red_packet": 500,
            "points": 20,
            "daily_budget": 20_000,
            "daily_points_budget": 2_000,
            "budget_code": "content",
        },
    )
    created += int(made)
    for word, action in [("微信", "reject"), ("代购", "reject"), ("最便宜", "flag"), ("私聊", "flag")]:
        created += int(BannedWord.objects.get_or_create(word=word, defaults={"action": action})[1])
    progress.update(1, 1)
    return created


def seed_posts(progress: Progress) -> int:
    people = _people()
    creators = [people[s] for s in ("01", "02", "03", "04", "05", "06", "07", "08")]
    operator = User.objects.filter(is_superuser=True).order_by("id").first()
    products = _products()
    if not products:
        return 0
    created = 0
    for i in range(POSTS):
        form = FORMS[i % 4]
        main = products[(i * 3) % len(products)]
        title = TITLES[form].format(name=main.name[:16])[:80]
        author = operator if (i % 8 == 7 and operator is not None) else creators[i % len(creators)]
        if Post.objects.filter(title=title, author=author).exists():
            continue
        extra = [products[(i * 3 + k) % len(products)].pk for k in (1, 2)][: i % 3]
        linked = [main.pk, *extra]
        images = _post_images(author, main, title, form, count=1 + i % 3)
        data = services.PostInput(
            form=form,
            title=title,
            body=BODIES[form].format(name=main.name),
            product_ids=list(dict.fromkeys(linked)),
            image_ids=images,
            scores=SCORES if form == PostForm.REVIEW else [],
            tags=[main.category.name, str(form.label)],
        )
        with transaction.atomic():
            post = services.create_post(author, data)
            if post.status == PostStatus.PENDING and i not in PENDING:
                if i in REJECTED:
                    services.reject_post(operator, post.pk, "图片与商品不符，请修改后重新提交")  # type: ignore[arg-type]
                else:
                    services.approve_post(operator, post.pk)  # type: ignore[arg-type]
        created += 1
        progress.update(i + 1, POSTS)
    deliver_pending()
    return created


def _post_images(author: User, product: Product, title: str, form: str, count: int) -> list[int]:
    """A cover drawn for the post (title, form, the product's still life) and the product's own pictures."""
    from jishi.demo.catalog_data import CATALOG
    from jishi.demo.images import post_image

    top = product.category.parent or product.category
    index = next((i for i, c in enumerate(CATALOG) if c.name == top.name), 0)
    cover = services.upload_image(author, post_image(index, title, str(PostForm(form).label), product.name))
    ids = [cover.pk]
    for picture in list(product.images.order_by("sort", "id"))[: count - 1]:
        with picture.image.open("rb") as handle:
            ids.append(services.upload_image(author, handle.read()).pk)
    return ids


def _demo_posts() -> list[Post]:
    return list(Post.objects.filter(status=PostStatus.APPROVED).order_by("id")[:POSTS])


def seed_topics(progress: Progress) -> int:
    posts = _demo_posts()
    products = _products()
    created = 0
    for index, (title, intro, colour) in enumerate(TOPICS):
        topic, made = Topic.objects.get_or_create(title=title, defaults={"intro": intro, "cover_colour": colour})
        if made:
            topic.posts.set(posts[index::4])
            topic.products.set(products[index::4][:8])
            created += 1
        progress.update(index + 1, len(TOPICS))
    return created


def seed_interactions(progress: Progress) -> int:
    people = _people()
    fans = [people[f"{n:02d}"] for n in range(1, 16)]
    posts = _demo_posts()
    created = 0
    for index, post in enumerate(posts):
        wanted = 11 if index in BUSY else index % 7
        others = [f for f in fans if f.pk != post.author_id]
        for fan in others[:wanted]:
            if not Like.objects.filter(post=post, user=fan).exists():
                services.like(fan, post.pk)
                created += 1
        if index % 3 == 0 and not Comment.objects.filter(post=post).exists():
            first = services.add_comment(others[0], post.pk, "看完就下单了，谢谢分享！")
            services.add_comment(post.author, post.pk, "用得开心～", first.pk)  # type: ignore[arg-type]
            services.add_comment(others[1], post.pk, "求问适合送长辈吗？")
            created += 3
        if index % 4 == 0:
            services.favourite(others[2], post.pk)
            services.share(others[3], post.pk)
        progress.update(index + 1, len(posts))
    deliver_pending()
    return created


def seed_attributed_orders(progress: Progress) -> int:
    if Order.objects.filter(meta__has_key=MARKER).exists():
        return 0
    people = _people()
    posts = [p for p in _demo_posts() if not p.by_operator][:8]
    created = 0
    for index, suffix in enumerate(BUYER_ORDERS):
        buyer = people[suffix]
        address = buyer.addresses.first()
        post = posts[index * 2 % len(posts)]
        product = post.product_links.select_related("product").first()
        if address is None or product is None:
            continue
        sku = product.product.skus.filter(is_active=True).order_by("price").first()
        if sku is None:
            continue
        services.record_view(buyer, post)
        with transaction.atomic():
            order = orders.place_order(buyer, [(sku.pk, 1)], address.pk)
            Order.objects.filter(pk=order.pk).update(meta={**order.meta, MARKER: index})
            if ledger.balance_of(buyer.pk, AccountKind.WALLET) < order.payable:
                ledger.transfer(
                    kind="wallet_topup",
                    key=f"demo-content-topup:{order.pk}",
                    reference=f"user:{buyer.pk}",
                    memo="演示充值",
                    source=ledger.platform_account(AccountKind.PLATFORM_TOPUP),
                    target=ledger.user_account(buyer.pk, AccountKind.WALLET),
                    amount=order.payable,
                )
            pay_with_wallet(buyer, order.pk)
        created += 1
        progress.update(index + 1, len(BUYER_ORDERS))
    deliver_pending()
    return created


STEPS: list[tuple[str, Callable[[Progress], int]]] = [
    ("content rules", seed_rules),
    ("content posts", seed_posts),
    ("content topics", seed_topics),
    ("content interactions", seed_interactions),
    ("content attributed orders", seed_attributed_orders),
]
