"""The home page in headless Chromium: the banner carousel's slides load their pictures and the dots move it;
the blocks below render with their pictures (screenshot into JISHI_SCREENSHOT_DIR for eyeballing)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from django.core.files.base import ContentFile
from django.utils import timezone
from playwright.sync_api import Page, expect

from jishi.catalog import services as catalog
from jishi.catalog.models import ProductStatus
from jishi.content.models import Post, PostForm, PostImage, PostStatus
from jishi.demo.images import banner_image, post_image, product_image
from jishi.inventory import services as inventory
from jishi.marketing import banners, flash
from jishi.marketing.models import FlashItem, FlashSession, GroupBuyCampaign
from jishi.testing.factories import CategoryFactory, UserFactory

from .test_browser import CHROMIUM, browser, page  # noqa: F401 - the shared live-server fixtures

pytestmark = [
    pytest.mark.django_db(transaction=True),
]

GOODS = [
    (1, "赣南脐橙 5斤装", "现摘现发 果园直供", 3990, 5990),
    (0, "明前西湖龙井 250g", "核心产区 头采嫩芽", 12800, 15800),
    (2, "手工麻薯 零食礼包", "软糯拉丝 6种口味", 2990, 3990),
    (4, "北欧陶瓷马克杯", "哑光釉面 送杯垫", 4900, 6900),
    (3, "玻尿酸保湿面膜 10片", "补水提亮 敏感肌可用", 5900, 9900),
    (5, "婴儿纯棉连体衣", "A类面料 三件装", 8900, 12900),
]


@pytest.fixture
def shop_home(db: Any) -> None:
    now = timezone.now()
    fruit, tea = CategoryFactory(name="水果生鲜", icon="🍊"), CategoryFactory(name="茶饮冲调", icon="🍵")
    made = []
    for index, name, subtitle, price, original in GOODS:
        product = catalog.create_product(
            {
                "category_id": (fruit if index == 1 else tea).pk,
                "name": name,
                "subtitle": subtitle,
                "skus": [{"specs": {}, "price": price, "original_price": original}],
                "status": ProductStatus.PUBLISHED,
            }
        )
        sku = product.skus.get()
        inventory.set_on_hand(sku.pk, 200)
        catalog.add_image(product.pk, product_image(index, name, category=subtitle[:4]))
        made.append((product, sku))
    slides = [
        (1, "限时秒杀 每两小时一场", "爆款低至 4 折，手慢无", "整点开抢", "/flash/"),
        (2, "邻里拼团 越拼越省", "好友成团立享 7 折", "拼团特惠", "/groups/"),
        (0, "茶饮节 产地直发", "精选好物 满99减10", "新品上市", f"/c/{tea.pk}/"),
    ]
    for sort, (palette, title, subtitle, badge, link) in enumerate(slides):
        data = {"title": title, "subtitle": subtitle, "link": link, "sort": sort}
        banners.create_banner(data, banner_image(palette, title, subtitle, badge))
    session = FlashSession.objects.create(
        name="十点场", starts_at=now - timedelta(minutes=30), ends_at=now + timedelta(hours=1)
    )
    for i, (_product, sku) in enumerate(made[:4]):
        item = flash.add_item(None, session.pk, {"sku_id": sku.pk, "flash_price": sku.price * 45 // 100, "stock": 50})
        FlashItem.objects.filter(pk=item.pk).update(stock_left=50 - (12 + 9 * i))
    for size, (product, sku) in zip((3, 2), made[4:], strict=True):
        GroupBuyCampaign.objects.create(
            name=f"{product.name} {size}人团",
            sku=sku,
            group_price=sku.price * 7 // 10,
            group_size=size,
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=7),
        )
    author = UserFactory(nickname="桔子酱")
    for i, (title, form) in enumerate([("脐橙真的甜到心里！", PostForm.REVIEW), ("办公室下午茶清单", PostForm.LIST)]):
        post = Post.objects.create(
            author=author, form=form, title=title, status=PostStatus.APPROVED, published_at=now, like_count=120 + i * 37
        )
        image = PostImage(uploader=author, post=post)
        image.image.save(
            "cover.jpg", ContentFile(post_image(1 - i, title, str(form.label), made[i][0].name)), save=True
        )


def loaded_images(tab: Page, selector: str) -> list[int]:
    tab.wait_for_function(
        "sel => [...document.querySelectorAll(sel)].every(img => img.complete)", arg=selector, timeout=15_000
    )
    return tab.eval_on_selector_all(selector, "imgs => imgs.map(img => img.naturalWidth)")


def test_the_carousel_shows_its_slides_and_the_dots_move_it(
    live_server: Any,
    page: Page,  # noqa: F811 - the fixture imported above
    shop_home: None,
) -> None:
    page.goto(f"{live_server.url}/")

    expect(page.locator("[data-slide]")).to_have_count(3)
    widths = loaded_images(page, "[data-slide] img")
    assert len(widths) == 3 and all(w > 0 for w in widths), widths
    expect(page.locator("[data-block]")).to_have_count(4)
    assert all(w > 0 for w in loaded_images(page, ".hm-flash-card img, .hm-group img"))
    folder = os.environ.get("JISHI_SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / "home.png"))
        page.screenshot(path=str(Path(folder) / "home_full.png"), full_page=True)

    page.locator("[data-dot='2']").click()
    page.wait_for_function("() => document.querySelector('[data-dot=\"2\"]').classList.contains('on')")
    track = page.locator("[data-track]")
    assert track.evaluate("t => Math.round(t.scrollLeft / t.clientWidth)") == 2
    expect(page.locator(".hm-dot.on")).to_have_count(1)
