"""Home banners: internal links only, the live window, the picture cropped on upload, the console form."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from jishi.core.errors import InvalidInput
from jishi.marketing import banners
from jishi.marketing.admin import BannerForm
from jishi.marketing.models import Banner, validate_internal_link

pytestmark = pytest.mark.django_db


def picture(size: tuple[int, int] = (1600, 1200), fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (230, 80, 60)).save(out, format=fmt)
    return out.getvalue()


def banner(**kw: Any) -> Banner:
    data: dict[str, Any] = {"title": "限时秒杀", "link": "/flash/"}
    data.update(kw)
    return banners.create_banner(data, picture())


@pytest.mark.parametrize("link", ["/flash/", "/c/3/", "/groups/?tab=hot", "/p/12/#reviews", "/"])
def test_internal_paths_are_accepted(link: str) -> None:
    validate_internal_link(link)


@pytest.mark.parametrize(
    "link",
    [
        "",
        "flash/",
        "//evil.example/",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/flash/ x",
        "/flash/\n",
        "/console/marketing/",
        "/api/v1/products",
    ],
)
def test_other_links_are_refused(link: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_internal_link(link)
    assert info.value.code == "external_link"


def test_create_banner_refuses_an_outside_link_and_writes_nothing() -> None:
    with pytest.raises(InvalidInput) as info:
        banners.create_banner({"title": "外链", "link": "//evil.example/"}, picture())

    assert list(info.value.fields) == ["link"]
    assert Banner.objects.count() == 0


def test_create_banner_refuses_a_window_that_ends_before_it_starts(now: datetime) -> None:
    with pytest.raises(InvalidInput) as info:
        banner(starts_at=now, ends_at=now - timedelta(hours=1))

    assert list(info.value.fields) == ["ends_at"]


def test_the_picture_is_cropped_to_the_carousel_shape() -> None:
    made = banner()

    with Image.open(made.image.path) as stored:
        assert stored.format == "JPEG"
        assert stored.size == banners.BANNER_SIZE


def test_a_file_that_is_not_a_picture_is_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        banners.create_banner({"title": "坏图", "link": "/"}, b"not an image")

    assert info.value.code == "invalid_image"


def test_live_banners_are_active_and_inside_their_window_in_sort_order(now: datetime) -> None:
    second = banner(title="二", sort=2)
    first = banner(title="一", sort=1, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1))
    banner(title="停用", is_active=False)
    banner(title="未开始", starts_at=now + timedelta(minutes=1))
    ended = banner(title="已结束", ends_at=now)

    assert banners.live_banners(now) == [first, second]
    assert banners.is_live(first, now) and not banners.is_live(ended, now)
    assert banners.live_banners(now - timedelta(seconds=1)) == [ended, first, second]
    assert banners.live_banners(now, limit=1) == [first]


def test_live_banners_is_one_query(django_assert_num_queries: Any, now: datetime) -> None:
    for i in range(5):
        banner(title=f"第{i}张")

    with django_assert_num_queries(1):
        assert len(banners.live_banners(now)) == 5


def test_the_console_form_crops_the_upload_and_checks_the_link() -> None:
    upload = SimpleUploadedFile("wide.png", picture((800, 800)), content_type="image/png")
    form = BannerForm(
        data={"title": "拼团", "link": "/groups/", "sort": "1", "is_active": "on"}, files={"image": upload}
    )

    assert form.is_valid(), form.errors
    saved = form.save()
    with Image.open(saved.image.path) as stored:
        assert stored.size == banners.BANNER_SIZE

    bad = BannerForm(
        data={"title": "外链", "link": "https://evil.example/", "sort": "0"},
        files={"image": SimpleUploadedFile("a.png", picture(), content_type="image/png")},
    )
    assert not bad.is_valid()
    assert list(bad.errors) == ["link"]
