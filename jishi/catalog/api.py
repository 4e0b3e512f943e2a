"""Catalogue endpoints: public browsing and search, operator management under /admin."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from jishi.accounts.auth import operator_auth
from jishi.core.api import ObjectId, OkOut, SortOrder, page_bounds, responses

from . import search, services
from .availability import sellable
from .models import Category, Product, ProductImage, ProductStatus

router = Router()
admin_router = Router(auth=operator_auth)

MAX_PRICE = 10**12


class CategoryOut(Schema):
    id: int
    name: str
    parent_id: int | None
    sort: int
    icon: str
    children: list[CategoryOut] = []


class ProductCard(Schema):
    id: int
    name: str
    subtitle: str
    price: int
    original_price: int
    sales: int
    category_id: int
    image: str | None


class ProductPage(Schema):
    items: list[ProductCard]
    count: int


class SkuOut(Schema):
    id: int
    price: int
    original_price: int
    stock: int
    specs: dict[str, str]
    barcode: str | None = None
    weight_g: int = 0


class ProductDetail(ProductCard):
    description: str
    status: str
    specs: list[dict[str, Any]]
    images: list[str]
    skus: list[SkuOut]


class ProductFilter(Schema):
    q: str | None = Field(None, max_length=64)
    category: int | None = Field(None, ge=1, le=2**62)
    limit: int | None = Field(None, ge=1, le=100)
    offset: int | None = Field(None, ge=0, le=10**6)


def _image_urls(product: Product) -> list[str]:
    return [img.image.url for img in product.images.all()]


def card(product: Product) -> dict[str, Any]:
    images = _image_urls(product)
    return {
        "id": product.pk,
        "name": product.name,
        "subtitle": product.subtitle,
        "price": product.price,
        "original_price": product.original_price,
        "sales": product.sales,
        "category_id": product.category_id,
        "image": images[0] if images else None,
    }


def detail(product: Product) -> dict[str, Any]:
    skus = [s for s in product.skus.all() if s.is_active]
    stock = sellable(s.pk for s in skus)
    return {
        **card(product),
        "description": product.description,
        "status": product.status,
        "specs": product.specs,
        "images": _image_urls(product),
        "skus": [
            {
                "id": s.pk,
                "price": s.price,
                "original_price": s.original_price,
                "stock": stock[s.pk],
                "specs": s.specs,
                "barcode": s.barcode,
                "weight_g": s.weight_g,
            }
            for s in skus
        ],
    }


def _tree(categories: list[Category]) -> list[dict[str, Any]]:
    nodes: dict[int, dict[str, Any]] = {
        c.pk: {
            "id": c.pk,
            "name": c.name,
            "parent_id": c.parent_id,
            "sort": c.sort,
            "icon": c.icon,
            "children": [],
        }
        for c in categories
    }
    roots: list[dict[str, Any]] = []
    for node in nodes.values():
        parent = nodes.get(node["parent_id"]) if node["parent_id"] else None
        (parent["children"] if parent else roots).append(node)
    return roots


def product_page(
    q: str | None,
    category: int | None,
    limit: int | None,
    offset: int | None,
    *,
    published_only: bool = True,
) -> dict[str, Any]:
    limit, offset = page_bounds(limit, offset)
    images = Prefetch("images", queryset=ProductImage.objects.order_by("sort", "id"))
    rows = Product.objects.all()
    if published_only:
        rows = rows.filter(status=ProductStatus.PUBLISHED)
    if category:
        rows = rows.filter(category_id__in=services.category_with_descendants(category))
    if q and q.strip():
        ids = search.ranked_product_ids(q, rows)
        chosen = ids[offset : offset + limit]
        by_id = {p.pk: p for p in rows.prefetch_related(images).filter(pk__in=chosen)}
        items = [by_id[i] for i in chosen if i in by_id]
        return {"items": [card(p) for p in items], "count": len(ids)}
    page = rows.prefetch_related(images)[offset : offset + limit]
    return {"items": [card(p) for p in page], "count": rows.count()}


@router.get("/categories", response=responses(list[CategoryOut]))
def list_categories(request: HttpRequest) -> Any:
    return _tree(list(Category.objects.filter(is_active=True)))


@router.get("/products", response=responses(ProductPage))
def list_products(request: HttpRequest, filters: Query[ProductFilter]) -> Any:
    return product_page(filters.q, filters.category, filters.limit, filters.offset)


@router.get("/products/{product_id}", response=responses(ProductDetail))
def get_product(request: HttpRequest, product_id: ObjectId) -> Any:
    product = services.get_product(product_id, published_only=True)
    return detail(product)


# --- operator endpoints -----------------------------------------------------------


class CategoryIn(Schema):
    name: str = Field(..., min_length=1, max_length=64)
    parent_id: int | None = Field(None, ge=1, le=2**62)
    sort: int = Field(0, ge=-(10**6), le=10**6)
    icon: str = Field("", max_length=16)
    is_active: bool = True


class SkuIn(Schema):
    specs: dict[str, str] = {}
    price: int = Field(..., ge=0, le=MAX_PRICE)
    original_price: int = Field(0, ge=0, le=MAX_PRICE)
    weight_g: int = Field(0, ge=0, le=10**7)
    barcode: str | None = Field(None, max_length=64)


class SpecIn(Schema):
    name: str = Field(..., min_length=1, max_length=32)
    values: list[str] = Field(..., min_length=1, max_length=50)


class ProductIn(Schema):
    category_id: int = Field(..., ge=1, le=2**62)
    name: str = Field(..., min_length=1, max_length=120)
    subtitle: str = Field("", max_length=200)
    description: str = Field("", max_length=100_000)
    specs: list[SpecIn] = Field([], max_length=5)
    price: int | None = Field(None, ge=0, le=MAX_PRICE)
    original_price: int = Field(0, ge=0, le=MAX_PRICE)
    skus: list[SkuIn] | None = Field(None, max_length=400)
    status: ProductStatus = ProductStatus.DRAFT
    sort: int = Field(0, ge=-(10**6), le=10**6)


class ProductUpdateIn(Schema):
    category_id: int | None = Field(None, ge=1, le=2**62)
    name: str | None = Field(None, min_length=1, max_length=120)
    subtitle: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=100_000)
    sort: int | None = Field(None, ge=-(10**6), le=10**6)


class SkuUpdateIn(Schema):
    price: int | None = Field(None, ge=0, le=MAX_PRICE)
    original_price: int | None = Field(None, ge=0, le=MAX_PRICE)
    weight_g: int | None = Field(None, ge=0, le=10**7)
    barcode: str | None = Field(None, max_length=64)
    is_active: bool | None = None


class AdminProductFilter(ProductFilter):
    pass


@admin_router.get("/categories", response=responses(list[CategoryOut]))
def admin_categories(request: HttpRequest) -> Any:
    return _tree(list(Category.objects.all()))


@admin_router.post("/categories", response=responses(CategoryOut, 201))
def admin_create_category(request: HttpRequest, payload: CategoryIn) -> Any:
    category = services.save_category(payload.dict())
    return Status(201, {**_tree([category])[0], "parent_id": category.parent_id})


@admin_router.put("/categories/{category_id}", response=responses(CategoryOut))
def admin_update_category(request: HttpRequest, category_id: ObjectId, payload: CategoryIn) -> Any:
    category = services.save_category(payload.dict(), category_id)
    return {**_tree([category])[0], "parent_id": category.parent_id}


@admin_router.delete("/categories/{category_id}", response=responses(OkOut))
def admin_delete_category(request: HttpRequest, category_id: ObjectId) -> Any:
    services.delete_category(category_id)
    return {"ok": True}


@admin_router.get("/products", response=responses(ProductPage))
def admin_products(request: HttpRequest, filters: Query[AdminProductFilter]) -> Any:
    return product_page(filters.q, filters.category, filters.limit, filters.offset, published_only=False)


@admin_router.post("/products", response=responses(ProductDetail, 201))
def admin_create_product(request: HttpRequest, payload: ProductIn) -> Any:
    product = services.create_product(payload.dict())
    return Status(201, detail(services.get_product(product.pk)))


@admin_router.get("/products/{product_id}", response=responses(ProductDetail))
def admin_get_product(request: HttpRequest, product_id: ObjectId) -> Any:
    return detail(services.get_product(product_id))


@admin_router.put("/products/{product_id}", response=responses(ProductDetail))
def admin_update_product(request: HttpRequest, product_id: ObjectId, payload: ProductUpdateIn) -> Any:
    return detail(services.update_product(product_id, payload.dict(exclude_unset=True)))


@admin_router.post("/products/{product_id}/publish", response=responses(ProductDetail))
def admin_publish(request: HttpRequest, product_id: ObjectId) -> Any:
    return detail(services.set_status(product_id, ProductStatus.PUBLISHED))


@admin_router.post("/products/{product_id}/unpublish", response=responses(ProductDetail))
def admin_unpublish(request: HttpRequest, product_id: ObjectId) -> Any:
    return detail(services.set_status(product_id, ProductStatus.UNPUBLISHED))


class ImageOut(Schema):
    id: int
    url: str


@admin_router.post("/products/{product_id}/images", response=responses(ImageOut, 201))
def admin_add_image(request: HttpRequest, product_id: ObjectId, image: File[UploadedFile], sort: SortOrder = 0) -> Any:
    created = services.add_image(product_id, image.read(), sort)
    return Status(201, {"id": created.pk, "url": created.image.url})


@admin_router.put("/skus/{sku_id}", response=responses(SkuOut))
def admin_update_sku(request: HttpRequest, sku_id: ObjectId, payload: SkuUpdateIn) -> Any:
    sku = services.update_sku(sku_id, payload.dict(exclude_unset=True))
    return {
        "id": sku.pk,
        "price": sku.price,
        "original_price": sku.original_price,
        "stock": sellable([sku.pk])[sku.pk],
        "specs": sku.specs,
        "barcode": sku.barcode,
        "weight_g": sku.weight_g,
    }
