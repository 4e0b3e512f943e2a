from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from jishi.catalog import services
from jishi.catalog.models import Product, ProductStatus, Sku
from jishi.inventory import services as inventory
from jishi.testing.factories import CategoryFactory, ProductFactory, SkuFactory

pytestmark = pytest.mark.django_db


def make(name: str, category: Any, price: int = 1000, subtitle: str = "", stock: int = 5) -> Product:
    product = services.create_product(
        {
            "category_id": category.pk,
            "name": name,
            "subtitle": subtitle,
            "price": price,
            "status": ProductStatus.PUBLISHED,
        }
    )
    for sku in product.skus.all():
        inventory.set_on_hand(sku.pk, stock)
    return product


@pytest.fixture
def shop() -> dict[str, Product]:
    tea = CategoryFactory(name="茶叶")
    digital = CategoryFactory(name="数码配件")
    return {
        "longjing": make("西湖龙井茶", tea, 19900, "明前特级 250g"),
        "puer": make("云南普洱茶饼", tea, 8800),
        "case": make("手机壳", digital, 2900, "防摔透明"),
        "cable": make("快充数据线", digital, 3900),
    }


def test_specs_build_every_sku_combination() -> None:
    category = CategoryFactory()
    product = services.create_product(
        {
            "category_id": category.pk,
            "name": "纯棉T恤",
            "price": 5900,
            "specs": [{"name": "颜色", "values": ["白", "黑"]}, {"name": "尺码", "values": ["S", "M", "L"]}],
        }
    )
    specs = sorted((s.specs["颜色"], s.specs["尺码"]) for s in product.skus.all())
    assert specs == [("白", "L"), ("白", "M"), ("白", "S"), ("黑", "L"), ("黑", "M"), ("黑", "S")]
    assert product.price == 5900


def test_explicit_skus_must_match_the_specs() -> None:
    category = CategoryFactory()
    with pytest.raises(services.InvalidInput):
        services.create_product(
            {
                "category_id": category.pk,
                "name": "x",
                "specs": [{"name": "颜色", "values": ["白"]}],
                "skus": [{"specs": {"颜色": "红"}, "price": 1}],
            }
        )
    assert Product.objects.count() == 0


@pytest.mark.parametrize("q", ["茶", "龙井", "西湖龙井", "longjing", "xhlj", "XHLJC"])
def test_search_finds_tea_by_chinese_pinyin_and_initials(api: Any, shop: dict[str, Product], q: str) -> None:
    body = api.get(f"products?q={q}").json()
    names = [item["name"] for item in body["items"]]
    assert "西湖龙井茶" in names
    assert "手机壳" not in names
    assert body["count"] == len(names)


def test_search_ranks_the_closest_match_first(api: Any, shop: dict[str, Product]) -> None:
    items = api.get("products?q=龙井茶").json()["items"]
    assert items[0]["name"] == "西湖龙井茶"


def test_search_matches_category_and_subtitle_words(api: Any, shop: dict[str, Product]) -> None:
    assert [i["name"] for i in api.get("products?q=防摔").json()["items"]] == ["手机壳"]


def test_search_skips_unpublished(api: Any, shop: dict[str, Product]) -> None:
    services.set_status(shop["puer"].pk, ProductStatus.UNPUBLISHED)
    names = [i["name"] for i in api.get("products?q=茶").json()["items"]]
    assert names == ["西湖龙井茶"]


def test_category_filter_and_pagination(api: Any, shop: dict[str, Product]) -> None:
    tea = shop["longjing"].category
    body = api.get(f"products?category={tea.pk}&limit=1&offset=1").json()
    assert body["count"] == 2
    assert len(body["items"]) == 1


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "category=abc"])
def test_bad_list_parameters_are_422(api: Any, query: str) -> None:
    response = api.get(f"products?{query}")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"


def test_product_detail_shows_sellable_stock(api: Any, shop: dict[str, Product]) -> None:
    product = shop["longjing"]
    sku = product.skus.get()
    inventory.reserve([(sku.pk, 2)], reference="order:test")
    body = api.get(f"products/{product.pk}").json()
    assert body["skus"] == [
        {
            "id": sku.pk,
            "price": 19900,
            "original_price": 0,
            "stock": 3,
            "specs": {},
            "barcode": None,
            "weight_g": 0,
        }
    ]


def test_unpublished_and_missing_products_are_404(api: Any) -> None:
    draft = ProductFactory(status=ProductStatus.DRAFT)
    assert api.get(f"products/{draft.pk}").status_code == 404
    assert api.get("products/999999").status_code == 404


def test_list_query_count_does_not_grow_with_page_size(api: Any, shop: dict[str, Product]) -> None:
    category = CategoryFactory()
    for i in range(10):
        make(f"商品{i}", category)
    with CaptureQueriesContext(connection) as small:
        api.get("products?limit=2")
    with CaptureQueriesContext(connection) as large:
        api.get("products?limit=14")
    assert len(large) == len(small)


def test_category_tree(api: Any) -> None:
    parent = CategoryFactory(name="生鲜")
    CategoryFactory(name="水果", parent=parent)
    tree = api.get("categories").json()
    assert tree[0]["name"] == "生鲜"
    assert tree[0]["children"][0]["name"] == "水果"


# --- operator API ----------------------------------------------------------------


def test_operator_creates_publishes_and_stocks_a_product(operator_api: Any, api: Any) -> None:
    category = operator_api.post("admin/categories", {"name": "茶叶"}).json()
    created = operator_api.post(
        "admin/products",
        {
            "category_id": category["id"],
            "name": "安吉白茶",
            "price": 12800,
            "specs": [{"name": "规格", "values": ["100g", "250g"]}],
        },
    )
    assert created.status_code == 201
    product = created.json()
    assert product["status"] == "draft"
    assert len(product["skus"]) == 2
    assert api.get(f"products/{product['id']}").status_code == 404
    sku_id = product["skus"][0]["id"]
    stock = operator_api.put(f"admin/skus/{sku_id}/stock", {"quantity": 30})
    assert stock.json() == {
        "sku_id": sku_id,
        "location": "main",
        "on_hand": 30,
        "reserved": 0,
        "available": 30,
    }
    assert operator_api.post(f"admin/products/{product['id']}/publish").json()["status"] == "published"
    public = api.get(f"products/{product['id']}").json()
    assert {s["id"]: s["stock"] for s in public["skus"]}[sku_id] == 30
    assert [i["name"] for i in api.get("products?q=白茶").json()["items"]] == ["安吉白茶"]


def test_stock_cannot_go_below_reserved(operator_api: Any) -> None:
    sku = SkuFactory(stock=10)
    inventory.reserve([(sku.pk, 4)], reference="order:1")
    response = operator_api.put(f"admin/skus/{sku.pk}/stock", {"quantity": 3})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "below_reserved"
    assert operator_api.put(f"admin/skus/{sku.pk}/stock", {"quantity": -1}).status_code == 422


def test_stock_for_missing_sku_is_404(operator_api: Any) -> None:
    assert operator_api.put("admin/skus/424242/stock", {"quantity": 3}).status_code == 404


def test_sku_price_update_refreshes_product_price(operator_api: Any) -> None:
    sku = SkuFactory(price=5000)
    services.refresh_price(sku.product)
    response = operator_api.put(f"admin/skus/{sku.pk}", {"price": 4200})
    assert response.json()["price"] == 4200
    assert Product.objects.get(pk=sku.product_id).price == 4200


def test_duplicate_barcode_is_422(operator_api: Any) -> None:
    SkuFactory(barcode="6901234567890")
    other = SkuFactory()
    response = operator_api.put(f"admin/skus/{other.pk}", {"barcode": "6901234567890"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "duplicate_barcode"


def test_publishing_without_skus_is_refused(operator_api: Any) -> None:
    product = ProductFactory(status=ProductStatus.DRAFT)
    response = operator_api.post(f"admin/products/{product.pk}/publish")
    assert response.status_code == 409


def test_category_cycles_and_non_empty_deletes_are_refused(operator_api: Any) -> None:
    parent = CategoryFactory()
    child = CategoryFactory(parent=parent)
    cyc = operator_api.put(f"admin/categories/{parent.pk}", {"name": "x", "parent_id": child.pk})
    assert cyc.status_code == 422
    assert operator_api.delete(f"admin/categories/{parent.pk}").json()["error"]["code"] == "category_not_empty"


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (2000, 1000), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def test_image_upload_is_resized_and_stored(operator_api: Any) -> None:
    product = ProductFactory()
    upload = SimpleUploadedFile("a.png", png_bytes(), content_type="image/png")
    response = operator_api.client.post(
        f"/api/v1/admin/products/{product.pk}/images",
        {"image": upload},
        headers={"Authorization": f"Bearer {operator_api.token}"},
    )
    assert response.status_code == 201
    stored = product.images.get()
    with Image.open(stored.image.path) as img:
        assert img.size == (1200, 600)
        assert img.format == "JPEG"


def test_non_image_upload_is_422(operator_api: Any) -> None:
    product = ProductFactory()
    upload = SimpleUploadedFile("a.png", b"<script>alert(1)</script>", content_type="image/png")
    response = operator_api.client.post(
        f"/api/v1/admin/products/{product.pk}/images",
        {"image": upload},
        headers={"Authorization": f"Bearer {operator_api.token}"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_image"
    assert not product.images.exists()
    assert Sku.objects.count() == 0
