"""Share posters: product picture, name, price and a QR code that carries the promoter's code."""

from __future__ import annotations

import io
import os
from functools import lru_cache
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

from jishi.catalog.models import Product
from jishi.core.money import format_yuan

WIDTH, HEIGHT = 750, 1180
CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


@lru_cache(maxsize=1)
def _cjk_font_path() -> str | None:
    configured = os.environ.get("JISHI_POSTER_FONT")
    for candidate in (configured, *CJK_FONTS):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = _cjk_font_path()
    if path:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def _printable(text: str) -> str:
    """Without a CJK font installed, Chinese is written in pinyin rather than as empty boxes."""
    if _cjk_font_path() or text.isascii():
        return text
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin(text)).title()


def qr_png(url: str, scale: int = 8) -> Image.Image:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=scale, border=2)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def render_poster(*, title: str, price: int | None, image_path: str | None, code: str, share_url: str) -> bytes:
    canvas = Image.new("RGB", (WIDTH, HEIGHT), (255, 248, 240))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, WIDTH, 96), fill=(230, 57, 70))
    draw.text((32, 24), _printable("集市 · 好物分享"), fill="white", font=_font(40))
    picture_box = (40, 130, WIDTH - 40, 130 + WIDTH - 80)
    if image_path and Path(image_path).is_file():
        with Image.open(image_path) as source:
            picture = source.convert("RGB")
        picture.thumbnail((picture_box[2] - picture_box[0], picture_box[3] - picture_box[1]))
        canvas.paste(picture, (picture_box[0], picture_box[1]))
    else:
        draw.rectangle(picture_box, fill=(244, 162, 97))
    y = picture_box[3] + 24
    draw.text((40, y), _printable(title)[:40], fill=(33, 37, 41), font=_font(36))
    if price is not None:
        draw.text((40, y + 60), format_yuan(price), fill=(230, 57, 70), font=_font(48))
    qr = qr_png(share_url, scale=5)
    qr_size = 200
    qr = qr.resize((qr_size, qr_size), Image.Resampling.NEAREST)
    canvas.paste(qr, (WIDTH - qr_size - 40, HEIGHT - qr_size - 40))
    draw.text((40, HEIGHT - 150), _printable("长按识别二维码"), fill=(108, 117, 125), font=_font(28))
    draw.text((40, HEIGHT - 100), f"CODE {code}", fill=(33, 37, 41), font=_font(32))
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()


def promoter_poster(code: str, product: Product | None, share_url: str) -> bytes:
    """A promoter's poster for ``product`` (or for the shop when None)."""
    if product is None:
        return render_poster(title="集市 Jishi", price=None, image_path=None, code=code, share_url=share_url)
    first = product.images.order_by("sort", "id").first()
    return render_poster(
        title=product.name,
        price=product.price,
        image_path=first.image.path if first else None,
        code=code,
        share_url=share_url,
    )
