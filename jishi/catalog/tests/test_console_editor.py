"""The product editor in the console: specs → SKU matrix with prices in yuan and stock, images, rich detail, copy."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from jishi.catalog.models import Product, ProductStatus, Sku
from jishi.inventory.models import StockItem
from jishi.testing.factories import CategoryFactory, OperatorFactory

pytestmark = pytest.mark.django_db

SPECS = [{"name": "颜色", "values": ["红", "蓝"]}, {"name": "尺码", "values": ["S", "M", "L"]}]


@pytest.fixture
def console() -> Client:
    client = Client()
    client.force_login(OperatorFactory(is_staff=True, is_superuser=True))
    return client


def photo(colour: tuple[int, int, int]) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(out, format="PNG")
    return SimpleUploadedFile("p.png", out.getvalue(), content_type="image/png")


def matrix(price: str = "128.00", stock: str = "5") -> list[dict[str, Any]]:
    return [
        {"specs": {"颜色": c, "尺码": s}, "price": price, "original_price": "", "stock": stock, "barcode": f"69{c}{s}"}
        for c in ("红", "蓝")
        for s in ("S", "M", "L")
    ]


def post_editor(console: Client, url: str, **overrides: Any) -> Any:
    data = {
        "name": "纯棉T恤",
        "subtitle": "夏季新款",
        "category": CategoryFactory().pk,
        "sort": "0",
        "status": ProductStatus.PUBLISHED,
        "description": '<p>面料<strong>100% 棉</strong></p><script>alert(1)</script><img src="javascript:x">',
        "specs_json": json.dumps(SPECS, ensure_ascii=False),
        "skus_json": json.dumps(matrix(), ensure_ascii=False),
        "image_order": "",
        "remove_images": "",
        **overrides,
    }
    return console.post(url, data)


def test_creating_a_product_makes_the_two_by_three_matrix_with_stock_and_sanitised_detail(console: Client) -> None:
    data = {"images": [photo((200, 30, 30)), photo((30, 30, 200))]}
    response = post_editor(console, reverse("admin:catalog_product_add"), **data)
    product = Product.objects.get(name="纯棉T恤")
    assert response.status_code == 302
    skus = list(product.skus.order_by("id"))
    assert [(s.specs["颜色"], s.specs["尺码"], s.price, s.barcode) for s in skus] == [
        (c, z, 12800, f"69{c}{z}") for c in ("红", "蓝") for z in ("S", "M", "L")
    ]
    assert sorted(StockItem.objects.filter(sku__product=product).values_list("on_hand", flat=True)) == [5] * 6
    assert (product.status, product.price, product.images.count()) == (ProductStatus.PUBLISHED, 12800, 2)
    assert product.description == "<p>面料<strong>100% 棉</strong></p><img>"


def test_editing_the_matrix_adds_a_value_and_drops_another_keeping_rows_and_orders(console: Client) -> None:
    post_editor(console, reverse("admin:catalog_product_add"))
    product = Product.objects.get(name="纯棉T恤")
    red_s = product.skus.get(spec_key__contains='"S"', specs__颜色="红")
    specs = [{"name": "颜色", "values": ["红", "绿"]}, {"name": "尺码", "values": ["S", "M", "L"]}]
    rows = [
        {"specs": {"颜色": c, "尺码": s}, "price": "99.5", "stock": "3", "barcode": ""}
        for c in ("红", "绿")
        for s in ("S", "M", "L")
    ]
    url = reverse("admin:catalog_product_change", args=[product.pk])
    post_editor(console, url, specs_json=json.dumps(specs), skus_json=json.dumps(rows))
    active = {(s.specs["颜色"], s.specs["尺码"]): s.price for s in product.skus.filter(is_active=True)}
    assert active == {(c, z): 9950 for c in ("红", "绿") for z in ("S", "M", "L")}
    assert product.skus.filter(is_active=False, specs__颜色="蓝").count() == 3
    assert Sku.objects.get(pk=red_s.pk).price == 9950  # the same row, updated


def test_a_bad_price_row_is_refused_and_nothing_is_written(console: Client) -> None:
    rows = matrix()
    rows[4]["price"] = "12.345"
    response = post_editor(console, reverse("admin:catalog_product_add"), skus_json=json.dumps(rows))
    assert response.status_code == 200
    assert response.context["form"].errors["skus_json"] == ["第 5 行：金额最多两位小数"]
    assert not Product.objects.filter(name="纯棉T恤").exists()


def test_images_reorder_and_remove(console: Client) -> None:
    post_editor(
        console, reverse("admin:catalog_product_add"), images=[photo((1, 1, 1)), photo((2, 2, 2)), photo((3, 3, 3))]
    )
    product = Product.objects.get(name="纯棉T恤")
    first, second, third = product.images.order_by("sort", "id").values_list("pk", flat=True)
    url = reverse("admin:catalog_product_change", args=[product.pk])
    post_editor(console, url, image_order=f"{third},{first},{second}", remove_images=str(second))
    assert list(product.images.order_by("sort", "id").values_list("pk", flat=True)) == [third, first]


def test_copy_makes_a_draft_with_the_same_matrix_and_images_but_no_barcodes(console: Client) -> None:
    post_editor(console, reverse("admin:catalog_product_add"), images=[photo((9, 9, 9))])
    product = Product.objects.get(name="纯棉T恤")
    console.post(reverse("admin:catalog_product_copy", args=[product.pk]))
    copy = Product.objects.exclude(pk=product.pk).get()
    assert (copy.name, copy.status, copy.skus.count(), copy.images.count()) == ("纯棉T恤（副本）", "draft", 6, 1)
    assert set(copy.skus.values_list("barcode", flat=True)) == {None}


def test_publish_action_refuses_a_product_without_active_skus(console: Client) -> None:
    post_editor(console, reverse("admin:catalog_product_add"), status=ProductStatus.DRAFT)
    product = Product.objects.get(name="纯棉T恤")
    product.skus.update(is_active=False)
    console.post(reverse("admin:catalog_product_changelist"), {"action": "publish", "_selected_action": [product.pk]})
    assert Product.objects.get(pk=product.pk).status == ProductStatus.DRAFT


def test_description_html_is_sanitised_rich_text_or_plain_text_with_breaks() -> None:
    rich = Product(description='<p>好<script>x</script><a href="javascript:alert(1)">链接</a></p>')
    plain = Product(description="第一行\n第二行 & 更多")
    assert str(rich.description_html) == '<p>好<a rel="noopener noreferrer nofollow">链接</a></p>'
    assert str(plain.description_html) == "<p>第一行<br>第二行 &amp; 更多</p>"
