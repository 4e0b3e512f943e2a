"""Every change to the catalogue: categories, products, SKUs from specs, images, publishing."""

from __future__ import annotations

import io
import itertools
import json
import uuid
from collections.abc import Sequence
from typing import Any

import nh3
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Min, Q
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from jishi.core.errors import Conflict, InvalidInput, NotFound

from . import search
from .models import Category, Product, ProductImage, ProductStatus, Sku

MAX_IMAGE_SIDE = 1200
MAX_SKUS_PER_PRODUCT = 400


def spec_key(specs: dict[str, Any]) -> str:
    return json.dumps(specs, ensure_ascii=False, sort_keys=True)[:200]


def get_category(category_id: int) -> Category:
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise NotFound(fields={"category_id": [str(_("类目不存在"))]})
    return category


def save_category(data: dict[str, Any], category_id: int | None = None) -> Category:
    category = Category() if category_id is None else get_category(category_id)
    parent_id = data.get("parent_id")
    if parent_id is not None:
        parent = get_category(parent_id)
        # refuse cycles: the new parent must not descend from this category
        node: Category | None = parent
        while node is not None:
            if category.pk and node.pk == category.pk:
                raise InvalidInput(fields={"parent_id": [str(_("不能把类目移到自己下面"))]})
            node = node.parent
        category.parent = parent
    elif "parent_id" in data:
        category.parent = None
    for name in ("name", "sort", "icon", "is_active"):
        if data.get(name) is not None:
            setattr(category, name, data[name])
    category.save()
    return category


def delete_category(category_id: int) -> None:
    category = get_category(category_id)
    if category.children.exists() or category.products.exists():
        raise Conflict(_("类目下还有子类目或商品"), code="category_not_empty")
    category.delete()


def _validate_specs(specs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    clean: list[dict[str, Any]] = []
    names: set[str] = set()
    for spec in specs:
        name = str(spec.get("name", "")).strip()
        values = [str(v).strip() for v in spec.get("values", []) if str(v).strip()]
        if not name or not values or name in names or len(set(values)) != len(values):
            raise InvalidInput(fields={"specs": [str(_("规格名不能重复，规格值不能为空或重复"))]})
        names.add(name)
        clean.append({"name": name, "values": values})
    return clean


def spec_combinations(specs: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """Every combination of spec values: colour × size → one dict per SKU."""
    if not specs:
        return [{}]
    names = [s["name"] for s in specs]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(s["values"] for s in specs))]


def refresh_price(product: Product) -> None:
    agg = product.skus.filter(is_active=True).aggregate(
        price=Min("price"), orig=Min("original_price", filter=Q(original_price__gt=0))
    )
    Product.objects.filter(pk=product.pk).update(price=agg["price"] or 0, original_price=agg["orig"] or 0)
    product.price = agg["price"] or 0
    product.original_price = agg["orig"] or 0


@transaction.atomic
def create_product(data: dict[str, Any]) -> Product:
    """Create a product and its SKUs: explicit ``skus``, or every spec combination at ``price``."""
    category = get_category(data["category_id"])
    specs = _validate_specs(data.get("specs") or [])
    product = Product.objects.create(
        category=category,
        name=data["name"],
        subtitle=data.get("subtitle") or "",
        description=data.get("description") or "",
        specs=specs,
        status=data.get("status") or ProductStatus.DRAFT,
        sort=data.get("sort") or 0,
    )
    sku_rows = data.get("skus")
    if not sku_rows:
        if data.get("price") is None:
            raise InvalidInput(fields={"price": [str(_("请填写价格或逐个 SKU 的价格"))]})
        sku_rows = [
            {
                "specs": combo,
                "price": data["price"],
                "original_price": data.get("original_price") or 0,
            }
            for combo in spec_combinations(specs)
        ]
    if len(sku_rows) > MAX_SKUS_PER_PRODUCT:
        raise InvalidInput(fields={"skus": [str(_("SKU 太多"))]})
    allowed = {s["name"]: set(s["values"]) for s in specs}
    skus = []
    for row in sku_rows:
        row_specs = {str(k): str(v) for k, v in (row.get("specs") or {}).items()}
        if set(row_specs) != set(allowed) or any(v not in allowed[k] for k, v in row_specs.items()):
            raise InvalidInput(fields={"skus": [str(_("SKU 规格与商品规格不一致"))]})
        skus.append(
            Sku(
                product=product,
                specs=row_specs,
                spec_key=spec_key(row_specs),
                price=row["price"],
                original_price=row.get("original_price") or 0,
                weight_g=row.get("weight_g") or 0,
                barcode=row.get("barcode") or None,
            )
        )
    try:
        with transaction.atomic():
            Sku.objects.bulk_create(skus)
    except IntegrityError as exc:
        raise InvalidInput(
            _("SKU 重复或条码已被占用"),
            code="duplicate_sku",
            fields={"skus": [str(_("SKU 重复或条码已被占用"))]},
        ) from exc
    refresh_price(product)
    search.reindex(product)
    return product


def get_product(product_id: int, *, published_only: bool = False) -> Product:
    rows = Product.objects.select_related("category")
    if published_only:
        rows = rows.filter(status=ProductStatus.PUBLISHED)
    product = rows.filter(pk=product_id).first()
    if product is None:
        raise NotFound()
    return product


@transaction.atomic
def update_product(product_id: int, data: dict[str, Any]) -> Product:
    product = get_product(product_id)
    if data.get("category_id") is not None:
        product.category = get_category(data["category_id"])
    for name in ("name", "subtitle", "description", "sort"):
        if data.get(name) is not None:
            setattr(product, name, data[name])
    product.save()
    search.reindex(product)
    return product


def set_status(product_id: int, status: str) -> Product:
    product = get_product(product_id)
    if status == ProductStatus.PUBLISHED and not product.skus.filter(is_active=True).exists():
        raise Conflict(_("没有可售 SKU 的商品不能上架"), code="no_sku")
    product.status = status
    product.save(update_fields=["status", "updated_at"])
    return product


def get_sku(sku_id: int) -> Sku:
    sku = Sku.objects.select_related("product").filter(pk=sku_id).first()
    if sku is None:
        raise NotFound()
    return sku


@transaction.atomic
def update_sku(sku_id: int, data: dict[str, Any]) -> Sku:
    sku = get_sku(sku_id)
    for name in ("price", "original_price", "weight_g", "is_active"):
        if data.get(name) is not None:
            setattr(sku, name, data[name])
    if "barcode" in data:
        sku.barcode = data["barcode"] or None
    try:
        with transaction.atomic():
            sku.save()
    except IntegrityError as exc:
        raise InvalidInput(code="duplicate_barcode", fields={"barcode": [str(_("条码已被占用"))]}) from exc
    refresh_price(sku.product)
    return sku


def normalise_image(raw: bytes) -> bytes:
    """Decode, bound the size and re-encode: what is stored is an image we wrote ourselves."""
    try:
        with Image.open(io.BytesIO(raw)) as source:
            source.load()
            rgb = source.convert("RGB")
            rgb.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
            out = io.BytesIO()
            rgb.save(out, format="JPEG", quality=85, optimize=True)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidInput(
            _("不是有效的图片"), code="invalid_image", fields={"image": [str(_("不是有效的图片"))]}
        ) from exc
    return out.getvalue()


def add_image(product_id: int, raw: bytes, sort: int = 0) -> ProductImage:
    product = get_product(product_id)
    content = normalise_image(raw)
    image = ProductImage(product=product, sort=sort)
    image.image.save(f"{uuid.uuid4().hex}.jpg", ContentFile(content), save=True)
    return image


def category_with_descendants(category_id: int) -> list[int]:
    pairs = list(Category.objects.values_list("id", "parent_id"))
    children: dict[int | None, list[int]] = {}
    for cid, parent in pairs:
        children.setdefault(parent, []).append(cid)
    out, stack = [], [category_id]
    while stack:
        cid = stack.pop()
        out.append(cid)
        stack.extend(children.get(cid, []))
    return out


# --- the console's product editor ---------------------------------------------------------

DESCRIPTION_TAGS = {
    "p",
    "br",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "del",
    "h1",
    "h2",
    "h3",
    "ul",
    "ol",
    "li",
    "blockquote",
    "a",
    "img",
    "figure",
    "figcaption",
    "div",
    "span",
    "pre",
    "hr",
}
DESCRIPTION_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}}
MAX_DESCRIPTION_CHARS = 60_000


def sanitise_description(html: str) -> str:
    """The product detail as safe HTML: formatting tags only, links and images by http(s) or relative URL."""
    cleaned = nh3.clean(
        html[:MAX_DESCRIPTION_CHARS],
        tags=DESCRIPTION_TAGS,
        attributes=DESCRIPTION_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer nofollow",
    )
    return cleaned.strip()


@transaction.atomic
def save_sku_matrix(product_id: int, specs: Sequence[dict[str, Any]], rows: Sequence[dict[str, Any]]) -> list[Sku]:
    """Make the product's SKUs exactly the spec matrix: rows matched by spec values are updated, new
    combinations created, SKUs no longer in the matrix deactivated (order lines still point at them).

    Each row: ``specs`` (one value per spec), ``price``, ``original_price`` (fen), ``weight_g``, ``barcode``.
    Raises InvalidInput when a row does not fit the specs, two rows repeat, or a barcode is taken.
    """
    product = Product.objects.select_for_update().filter(pk=product_id).first()
    if product is None:
        raise NotFound()
    clean_specs = _validate_specs(specs)
    allowed = {s["name"]: set(s["values"]) for s in clean_specs}
    wanted: dict[str, dict[str, Any]] = {}
    for row in rows:
        row_specs = {str(k): str(v) for k, v in (row.get("specs") or {}).items()}
        if set(row_specs) != set(allowed) or any(v not in allowed[k] for k, v in row_specs.items()):
            raise InvalidInput(fields={"skus": [str(_("SKU 规格与商品规格不一致"))]})
        key = spec_key(row_specs)
        if key in wanted:
            raise InvalidInput(fields={"skus": [str(_("SKU 重复"))]})
        if int(row.get("price") or 0) < 0 or int(row.get("original_price") or 0) < 0:
            raise InvalidInput(fields={"skus": [str(_("价格不能为负"))]})
        wanted[key] = {**row, "specs": row_specs}
    if not wanted or len(wanted) > MAX_SKUS_PER_PRODUCT:
        raise InvalidInput(fields={"skus": [str(_("至少需要一个 SKU"))]})
    existing = {sku.spec_key: sku for sku in product.skus.all()}
    saved: list[Sku] = []
    try:
        with transaction.atomic():
            # Barcodes are unique: free the ones being moved or dropped before assigning them again.
            Sku.objects.filter(product=product).update(barcode=None)
            for key, row in wanted.items():
                sku = existing.get(key) or Sku(product=product, specs=row["specs"], spec_key=key)
                sku.price = int(row.get("price") or 0)
                sku.original_price = int(row.get("original_price") or 0)
                sku.weight_g = int(row.get("weight_g") or 0)
                sku.barcode = str(row.get("barcode") or "").strip() or None
                sku.is_active = True
                sku.save()
                saved.append(sku)
            Sku.objects.filter(product=product).exclude(spec_key__in=list(wanted)).update(is_active=False)
    except IntegrityError as exc:
        raise InvalidInput(
            _("条码已被占用"), code="duplicate_barcode", fields={"barcode": [str(_("条码已被占用"))]}
        ) from exc
    product.specs = clean_specs
    product.save(update_fields=["specs", "updated_at"])
    refresh_price(product)
    return saved


def reorder_images(product_id: int, image_ids: Sequence[int]) -> None:
    """Put the product's images in this order (the first is the cover); ids of other products are ignored."""
    position = {image_id: index for index, image_id in enumerate(image_ids)}
    images = list(ProductImage.objects.filter(product_id=product_id, pk__in=list(position)))
    for image in images:
        image.sort = position[image.pk]
    ProductImage.objects.bulk_update(images, ["sort"])


def remove_images(product_id: int, image_ids: Sequence[int]) -> int:
    images = list(ProductImage.objects.filter(product_id=product_id, pk__in=list(image_ids)))
    for image in images:
        image.image.delete(save=False)
        image.delete()
    return len(images)


@transaction.atomic
def copy_product(product_id: int) -> Product:
    """A draft copy: same category, texts, specs, SKUs (without barcodes, which are unique) and images."""
    source = get_product(product_id)
    copy = Product.objects.create(
        category=source.category,
        name=f"{source.name}{_('（副本）')}"[:120],
        subtitle=source.subtitle,
        description=source.description,
        specs=source.specs,
        status=ProductStatus.DRAFT,
        sort=source.sort,
    )
    Sku.objects.bulk_create(
        Sku(
            product=copy,
            specs=sku.specs,
            spec_key=sku.spec_key,
            price=sku.price,
            original_price=sku.original_price,
            weight_g=sku.weight_g,
            is_active=sku.is_active,
        )
        for sku in source.skus.all()
    )
    for image in source.images.all():
        with image.image.open("rb") as handle:
            content = handle.read()
        clone = ProductImage(product=copy, sort=image.sort)
        clone.image.save(f"{uuid.uuid4().hex}.jpg", ContentFile(content), save=True)
    refresh_price(copy)
    search.reindex(copy)
    return copy
