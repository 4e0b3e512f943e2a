"""After-sales with a reason picked from the list and photos of the problem."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from jishi.engagement.models import AfterSalePhoto
from jishi.orders.models import AfterSale
from jishi.testing.shop import Shopper

from .conftest import Shop
from .test_my_orders import place, text


def photo(name: str = "broken.jpg") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (180, 40, 40)).save(out, format="JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def test_reason_pick_and_words_and_photos_make_the_case(me_client: Client, me: Shopper, shop: Shop) -> None:
    order = place(me, shop, apples=1, pay=True)
    line = order.lines.get()

    response = me_client.post(
        f"/orders/{order.pk}/after-sales/",
        {
            "line": [line.pk],
            "kind": "refund_only",
            "reason_pick": "商品破损",
            "reason": "盒子压扁了",
            "photos": [photo(), photo("second.jpg")],
        },
    )

    assert response.status_code == 302
    case = AfterSale.objects.get(order=order)
    assert case.reason == "商品破损：盒子压扁了"
    assert AfterSalePhoto.objects.filter(case=case).count() == 2
    body = text(me_client.get(f"/orders/{order.pk}/"))
    assert body.count('alt="售后凭证"') == 2


def test_a_picked_reason_alone_is_enough(me_client: Client, me: Shopper, shop: Shop) -> None:
    order = place(me, shop, apples=1, pay=True)

    me_client.post(
        f"/orders/{order.pk}/after-sales/",
        {"line": [order.lines.get().pk], "kind": "refund_only", "reason_pick": "不想要了"},
    )

    assert AfterSale.objects.get(order=order).reason == "不想要了"


def test_a_file_that_is_not_a_picture_refuses_the_whole_request(me_client: Client, me: Shopper, shop: Shop) -> None:
    order = place(me, shop, apples=1, pay=True)
    junk = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")

    response = me_client.post(
        f"/orders/{order.pk}/after-sales/",
        {"line": [order.lines.get().pk], "kind": "refund_only", "reason_pick": "其他", "photos": [junk]},
    )

    assert response.status_code == 422  # the image normaliser's InvalidImage
    assert not AfterSale.objects.filter(order=order).exists()
    assert AfterSalePhoto.objects.count() == 0
