"""Demo pictures set the product's Chinese name in a CJK font, one composition per category."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops

from jishi.core.fonts import has_cjk_font
from jishi.demo.images import IMAGE_SIDE, PALETTES, POST_SIZE, mall_image, post_image, product_image


def _open(raw: bytes) -> Image.Image:
    return Image.open(io.BytesIO(raw)).convert("RGB")


def test_a_cjk_font_is_installed() -> None:
    # `make` installs fonts-noto-cjk; without it every picture would fall back to pinyin.
    assert has_cjk_font()


def test_product_image_is_a_square_jpeg_with_the_name_drawn() -> None:
    raw = product_image(0, "西湖龙井茶", 0, category="茶叶", subtitle="明前特级")
    image = _open(raw)
    assert raw[:2] == b"\xff\xd8"
    assert image.size == (IMAGE_SIDE, IMAGE_SIDE)
    # The name card (white) holds dark glyphs: the name was drawn, not left blank.
    card = image.crop((40, int(IMAGE_SIDE * 0.74), IMAGE_SIDE - 40, int(IMAGE_SIDE * 0.86))).convert("L")
    assert sum(1 for v in card.get_flattened_data() if v < 90) > 400


def test_different_names_draw_different_pictures() -> None:
    a = _open(product_image(0, "西湖龙井茶"))
    b = _open(product_image(0, "碧螺春"))
    assert ImageChops.difference(a, b).getbbox() is not None


@pytest.mark.parametrize("index", range(len(PALETTES)))
def test_each_category_has_its_own_composition(index: int) -> None:
    here = _open(product_image(index, "好物"))
    other = _open(product_image((index + 1) % len(PALETTES), "好物"))
    assert ImageChops.difference(here, other).getbbox() is not None


def test_post_cover_and_mall_picture_sizes() -> None:
    assert _open(post_image(1, "烟台红富士苹果 深度测评", "测评", "烟台红富士苹果")).size == POST_SIZE
    assert _open(mall_image("定制陶瓷马克杯")).size == (IMAGE_SIDE, IMAGE_SIDE)
