"""Read helpers for the storefront pages: category chips, product grids, product detail.

Product lists go through ``jishi.catalog.api.product_page`` and details through
``jishi.catalog.api.detail``, so the pages show exactly what the REST API shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404
from django.utils.http import urlencode

from jishi.catalog import api as catalog_api
from jishi.catalog import services as catalog
from jishi.catalog.models import Category, ProductImage
from jishi.core.errors import NotFound

PAGE_SIZE = 20
MAX_PAGE = 10_000
QUERY_MAX_LENGTH = 64


@dataclass(frozen=True)
class GridPage:
    """One page of product cards (dicts shaped like ``catalog.api.card``)."""

    items: list[dict[str, Any]]
    count: int
    number: int
    page_size: int = PAGE_SIZE
    params: dict[str, str] = field(default_factory=dict)

    @property
    def has_next(self) -> bool:
        return self.number * self.page_size < self.count

    @property
    def next_query(self) -> str:
        """The query string of the next page, keeping the search words."""
        return urlencode({**self.params, "page": str(self.number + 1)})


def page_number(raw: str | None) -> int:
    """A page number from the query string; anything odd means the first page."""
    try:
        number = int(raw or 1)
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


def clean_query(raw: str | None) -> str:
    return (raw or "").strip()[:QUERY_MAX_LENGTH]


def product_grid(*, number: int = 1, category_id: int | None = None, q: str | None = None) -> GridPage:
    """Published products, newest/sorted first, or best match first when ``q`` is given."""
    offset = (number - 1) * PAGE_SIZE
    page = catalog_api.product_page(q or None, category_id, PAGE_SIZE, offset)
    params = {"q": q} if q else {}
    return GridPage(
        items=page["items"],
        count=page["count"],
        number=number,
        page_size=PAGE_SIZE,
        params=params,
    )


def top_categories() -> list[Category]:
    return list(Category.objects.filter(is_active=True, parent__isnull=True))


def category_tree() -> list[Category]:
    """Active top-level categories, each with its active children prefetched as ``subs``."""
    subs = Prefetch("children", queryset=Category.objects.filter(is_active=True), to_attr="subs")
    return list(Category.objects.filter(is_active=True, parent__isnull=True).prefetch_related(subs))


def active_category(category_id: int) -> Category:
    category = Category.objects.select_related("parent").filter(pk=category_id, is_active=True).first()
    if category is None:
        raise Http404
    return category


def subcategories(category: Category) -> list[Category]:
    return list(category.children.filter(is_active=True))


def product_detail(product_id: int) -> dict[str, Any]:
    """The API detail of a published product, with each SKU's spec text; 404 otherwise."""
    try:
        product = catalog.get_product(product_id, published_only=True)
    except NotFound as exc:
        raise Http404 from exc
    prefetch_related_objects(
        [product], "skus", Prefetch("images", queryset=ProductImage.objects.order_by("sort", "id"))
    )
    data = catalog_api.detail(product)
    for sku in data["skus"]:
        sku["label"] = " / ".join(str(v) for v in sku["specs"].values())
    data["stock"] = sum(max(sku["stock"], 0) for sku in data["skus"])
    data["category_name"] = product.category.name
    return data
