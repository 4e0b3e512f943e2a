"""Every change in buyer engagement: favourites, browsing history, shipment reminders, after-sales photos."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jishi.accounts.models import User
from jishi.catalog.models import Product, ProductStatus
from jishi.catalog.services import normalise_image
from jishi.core.errors import Conflict, InvalidInput, NotFound
from jishi.core.events import publish
from jishi.core.sql import insert_once
from jishi.orders.models import AfterSale, Order, OrderStatus

from .models import AfterSalePhoto, Favourite, ProductView, ShipmentReminder

HISTORY_KEEP = 200  # rows kept per buyer


def _published(product_id: int) -> None:
    if not Product.objects.filter(pk=product_id, status=ProductStatus.PUBLISHED).exists():
        raise NotFound(_("商品不存在或已下架"), code="product_unavailable")


def add_favourite(user: User, product_id: int) -> bool:
    """True when it was added now, False when it was already a favourite."""
    _published(product_id)
    return insert_once(Favourite, {"user": user.pk, "product": product_id}, conflict=["user", "product"]) is not None


def remove_favourite(user: User, product_id: int) -> None:
    Favourite.objects.filter(user=user, product_id=product_id).delete()


def is_favourite(user: User | None, product_id: int) -> bool:
    return user is not None and Favourite.objects.filter(user=user, product_id=product_id).exists()


def record_view(user: User, product_id: int, now: datetime | None = None) -> None:
    """Move the product to the top of the buyer's history (one row per product)."""
    now = now or timezone.now()
    with transaction.atomic():
        ProductView.objects.update_or_create(user=user, product_id=product_id, defaults={"viewed_at": now})
        stale = ProductView.objects.filter(user=user).order_by("-viewed_at", "-id").values_list("pk", flat=True)
        old = list(stale[HISTORY_KEEP : HISTORY_KEEP + 50])
        if old:
            ProductView.objects.filter(pk__in=old).delete()


def clear_history(user: User) -> int:
    return ProductView.objects.filter(user=user).delete()[0]


def remind_shipment(user: User, order_id: int) -> bool:
    """The buyer's 提醒发货: True the first time, False when already reminded. Only a paid order."""
    order = Order.objects.filter(pk=order_id, user=user).only("pk", "status", "number").first()
    if order is None:
        raise NotFound(_("订单不存在"), code="order_not_found")
    if order.status != OrderStatus.PAID:
        raise Conflict(_("订单已发货或不可提醒"), code="invalid_order_status")
    with transaction.atomic():
        made = insert_once(ShipmentReminder, {"order": order.pk, "user": user.pk}, conflict=["order"]) is not None
        if made:
            publish("order.shipment_reminded", {"order_id": order.pk, "user_id": user.pk, "number": order.number})
    return made


def reminded(order_ids: list[int]) -> set[int]:
    return set(ShipmentReminder.objects.filter(order_id__in=order_ids).values_list("order_id", flat=True))


MAX_AFTER_SALE_PHOTOS = 6


def prepare_photos(raws: Sequence[bytes]) -> list[bytes]:
    """Decode and re-encode each upload (the catalogue's one normaliser) before anything is written,
    so a bad picture refuses the whole request. Raises InvalidInput."""
    if len(raws) > MAX_AFTER_SALE_PHOTOS:
        raise InvalidInput(_("最多上传 6 张图片"), code="too_many_images")
    return [normalise_image(raw) for raw in raws]


def attach_after_sale_photos(user: User, case_id: int, photos: Sequence[bytes]) -> list[AfterSalePhoto]:
    """Store ``prepare_photos`` output on the buyer's own case."""
    case = AfterSale.objects.filter(pk=case_id, user=user).first()
    if case is None:
        raise NotFound(_("售后申请不存在"), code="after_sale_not_found")
    saved = []
    for sort, content in enumerate(photos):
        photo = AfterSalePhoto(case=case, sort=sort)
        photo.image.save(f"{uuid.uuid4().hex}.jpg", ContentFile(content), save=True)
        saved.append(photo)
    return saved


def photos_of(case_ids: Sequence[int]) -> dict[int, list[AfterSalePhoto]]:
    out: dict[int, list[AfterSalePhoto]] = {}
    for photo in AfterSalePhoto.objects.filter(case_id__in=case_ids):
        out.setdefault(photo.case_id, []).append(photo)
    return out
