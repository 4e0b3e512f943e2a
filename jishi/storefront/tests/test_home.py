"""The home page: banner carousel (or the static banner), 限时秒杀, 拼团, 新品 and 种草推荐 blocks, each left
out when empty, in a bounded number of queries."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from jishi.accounts.models import User
from jishi.catalog import services as catalog
from jishi.content.models import Post, PostForm, PostImage, PostStatus
from jishi.marketing import banners, flash
from jishi.marketing.models import Banner, FlashSession, GroupBuyCampaign
from jishi.testing.factories import UserFactory
from jishi.testing.shop import skus

from .conftest import Shop

pytestmark = pytest.mark.django_db


def picture(colour: tuple[int, int, int] = (240, 90, 60), size: tuple[int, int] = (900, 400)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def text(response: Any) -> str:
    return response.content.decode()


def banner(title: str, **kw: Any) -> Banner:
    return banners.create_banner({"title": title, "link": "/flash/", **kw}, picture())


def flash_sale(stock: int = 10, sold: int = 0, name: str = "秒杀苹果") -> None:
    now = timezone.now()
    (sku,) = skus(9900, stock=50)
    sku.product.name = name
    sku.product.save()
    catalog.add_image(sku.product_id, picture((200, 40, 40), (400, 400)))
    session = FlashSession.objects.create(
        name="十点场", starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=1)
    )
    item = flash.add_item(None, session.pk, {"sku_id": sku.pk, "flash_price": 1990, "stock": stock})
    type(item).objects.filter(pk=item.pk).update(stock_left=stock - sold)


def group_campaign(name: str = "拼团橙子") -> GroupBuyCampaign:
    now = timezone.now()
    (sku,) = skus(5000, stock=100)
    sku.product.name = name
    sku.product.save()
    return GroupBuyCampaign.objects.create(
        name="三人团",
        sku=sku,
        group_price=3900,
        group_size=3,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=7),
    )


def post(author: User, title: str, *, cover: bool = True, featured: bool = False) -> Post:
    made = Post.objects.create(
        author=author,
        form=PostForm.choices[0][0],
        title=title,
        status=PostStatus.APPROVED,
        featured=featured,
        published_at=timezone.now(),
    )
    if cover:
        image = PostImage(uploader=author, post=made)
        image.image.save("cover.jpg", ContentFile(picture((90, 160, 90), (300, 400))), save=True)
    return made


def blocks_of(body: str) -> list[str]:
    return [name for name in ("flash", "groups", "new", "posts") if f'data-block="{name}"' in body]


def test_live_banners_make_the_carousel_in_order(client: Client, shop: Shop) -> None:
    banner("第二张", sort=2, subtitle="满99减10")
    banner("第一张", sort=1, link="/groups/")
    banner("停用的", is_active=False)
    banner("已结束", ends_at=timezone.now() - timedelta(minutes=1), starts_at=timezone.now() - timedelta(days=1))

    body = text(client.get("/"))

    assert "data-carousel" in body
    assert body.count("data-slide") == 2
    assert body.index("第一张") < body.index("第二张")
    assert 'href="/groups/"' in body and "满99减10" in body
    assert body.count("data-dot=") == 2
    assert "停用的" not in body and "已结束" not in body
    assert "集市 · 好物直供" not in body
    assert "js/home.js" in body


def test_without_live_banners_the_static_banner_shows(client: Client, shop: Shop) -> None:
    banner("明天才开始", starts_at=timezone.now() + timedelta(days=1))

    body = text(client.get("/"))

    assert "data-carousel" not in body
    assert "集市 · 好物直供" in body


def test_a_single_banner_has_no_dots(client: Client, shop: Shop) -> None:
    banner("唯一一张")

    body = text(client.get("/"))

    assert body.count("data-slide") == 1
    assert "hm-dot" not in body


def test_every_block_shows_with_its_more_link(client: Client, shop: Shop) -> None:
    flash_sale(stock=10, sold=4)
    group_campaign()
    author = UserFactory(nickname="小红")
    post(author, "没有封面的笔记", cover=False)
    post(author, "普通笔记")
    post(author, "精选笔记", featured=True)

    body = text(client.get("/"))

    assert blocks_of(body) == ["flash", "groups", "new", "posts"]
    assert "秒杀苹果" in body and "¥19.90" in body and "¥99.00" in body
    assert "已抢 40%" in body and 'style="width: 40%"' in body
    assert "拼团橙子" in body and "3人团" in body and "¥39.00" in body
    assert 'href="/flash/"' in body and 'href="/groups/"' in body
    assert 'href="/categories/"' in body and 'href="/content/"' in body
    assert body.count('class="hm-post"') == 2
    assert body.index("精选笔记") < body.index("普通笔记")
    assert "没有封面的笔记" not in body
    new_block = body[body.index('data-block="new"') : body.index('data-block="posts"')]
    assert new_block.count('class="hm-new-card"') == 5  # three shop products + the two campaign products
    assert "未上架白茶" not in new_block


def test_empty_blocks_are_left_out(client: Client, db: None) -> None:
    body = text(client.get("/"))

    assert blocks_of(body) == []
    assert "暂无商品" in body


def test_a_sold_out_flash_item_says_so(client: Client, shop: Shop) -> None:
    flash_sale(stock=5, sold=5)

    body = text(client.get("/"))

    assert blocks_of(body) == ["flash", "new"]
    assert "已抢光" in body and 'style="width: 100%"' in body


def test_a_flash_session_not_yet_live_is_not_on_the_home_page(client: Client, shop: Shop) -> None:
    now = timezone.now()
    (sku,) = skus(9900, stock=50)
    session = FlashSession.objects.create(
        name="晚场", starts_at=now + timedelta(hours=2), ends_at=now + timedelta(hours=3)
    )
    flash.add_item(None, session.pk, {"sku_id": sku.pk, "flash_price": 1990, "stock": 5})

    assert "flash" not in blocks_of(text(client.get("/")))


def test_load_more_does_not_read_the_blocks(client: Client, shop: Shop, django_assert_max_num_queries: Any) -> None:
    banner("轮播")
    flash_sale()

    with django_assert_max_num_queries(4):
        more = client.get("/?page=2", headers={"HX-Request": "true"})

    assert "data-carousel" not in text(more)


def fill(n: int) -> None:
    author = UserFactory()
    for i in range(n):
        banner(f"轮播{i}", sort=i)
        flash_sale(name=f"秒杀{i}")
        group_campaign(name=f"拼团{i}")
        post(author, f"笔记{i}")


def test_the_home_page_reads_a_bounded_number_of_queries(
    client: Client, shop: Shop, django_assert_max_num_queries: Any
) -> None:
    fill(2)
    client.get("/")  # warm caches (content types, settings)
    with django_assert_max_num_queries(20) as few:
        body = text(client.get("/"))
    assert blocks_of(body) == ["flash", "groups", "new", "posts"]

    fill(4)
    with django_assert_max_num_queries(20) as many:
        body = text(client.get("/"))

    assert body.count("data-slide") == 6
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_blocks_speak_english_too(client: Client, shop: Shop) -> None:
    flash_sale(stock=10, sold=5)
    group_campaign()

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = text(client.get("/"))

    assert "New arrivals" in body and "Group of 3" in body and "50% sold" in body and ">More ›<" in body
