"""Share posters: product picture, name, price and a QR code that carries the promoter's code."""

from __future__ import annotations

import io
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

from jishi.catalog.models import Product
from jishi.core.fonts import cjk_font, printable
from jishi.core.money import format_yuan

WIDTH, HEIGHT = 750, 1180
RED = (230, 57, 70)
INK = (33, 37, 41)
GREY = (120, 124, 130)
AVATAR_COLOURS = ((230, 57, 70), (244, 162, 97), (42, 157, 143), (69, 123, 157), (131, 56, 236), (255, 183, 3))


def qr_png(url: str, scale: int = 8) -> Image.Image:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=scale, border=2)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def _avatar(name: str, size: int) -> Image.Image:
    """A round avatar with the first character of the promoter's name."""
    colour = AVATAR_COLOURS[sum(map(ord, name)) % len(AVATAR_COLOURS)]
    big = size * 4
    disc = Image.new("RGB", (big, big), colour)
    mask = Image.new("L", (big, big), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, big - 1, big - 1), fill=255)
    ImageDraw.Draw(disc).text(
        (big // 2, big // 2), printable(name[:1] or "集"), font=cjk_font(big // 2, bold=True), fill="white", anchor="mm"
    )
    out = Image.new("RGBA", (big, big))
    out.paste(disc, (0, 0), mask)
    return out.resize((size, size), Image.Resampling.LANCZOS)


def _wrap(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int, lines: int) -> list[str]:
    out, current = [], ""
    for ch in text:
        if font.getlength(current + ch) > width:
            out.append(current)
            current = ch
        else:
            current += ch
    out.append(current)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][:-1] + "…"
    return out


def render_poster(
    *, title: str, price: int | None, image_path: str | None, code: str, share_url: str, promoter_name: str = ""
) -> bytes:
    """The poster buyers know: who recommends it, the picture, name and price, and a QR code to scan."""
    canvas = Image.new("RGB", (WIDTH, HEIGHT), (255, 244, 236))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, WIDTH, 300), fill=RED)
    name = promoter_name or code
    avatar = _avatar(name, 88)
    canvas.paste(avatar, (40, 30), avatar)
    draw.text((148, 52), printable(name)[:16], fill="white", font=cjk_font(34, bold=True))
    draw.text((148, 98), printable("为你推荐一件好物"), fill=(255, 225, 225), font=cjk_font(26))
    card = (30, 140, WIDTH - 30, HEIGHT - 30)
    draw.rounded_rectangle(card, radius=28, fill="white")
    side = WIDTH - 100
    picture_box = (50, 160, 50 + side, 160 + side)
    if image_path and Path(image_path).is_file():
        with Image.open(image_path) as source:
            picture = source.convert("RGB")
        picture = picture.resize((side, side), Image.Resampling.LANCZOS)
        mask = Image.new("L", (side, side), 0)
        ImageDraw.Draw(mask).rounded_rectangle((0, 0, side - 1, side - 1), radius=20, fill=255)
        canvas.paste(picture, picture_box[:2], mask)
    else:
        draw.rounded_rectangle(picture_box, radius=20, fill=(255, 214, 196))
        draw.text(
            ((picture_box[0] + picture_box[2]) // 2, (picture_box[1] + picture_box[3]) // 2),
            printable("集市"),
            font=cjk_font(140, bold=True),
            fill=RED,
            anchor="mm",
        )
    y = picture_box[3] + 22
    qr_size = 190
    text_width = WIDTH - 100 - qr_size - 30
    if price is not None:
        draw.text((50, y), printable("¥"), fill=RED, font=cjk_font(34, bold=True))
        draw.text((78, y - 12), format_yuan(price).lstrip("¥"), fill=RED, font=cjk_font(56, bold=True))
        y += 74
    title_font = cjk_font(32, bold=True)
    for line in _wrap(printable(title), title_font, text_width, 2):
        draw.text((50, y), line, fill=INK, font=title_font)
        y += 44
    draw.text((50, HEIGHT - 110), printable("长按识别二维码 立即购买"), fill=GREY, font=cjk_font(24))
    draw.text((50, HEIGHT - 74), printable(f"邀请码 {code}"), fill=INK, font=cjk_font(24, bold=True))
    qr = qr_png(share_url, scale=5).resize((qr_size, qr_size), Image.Resampling.NEAREST)
    canvas.paste(qr, (WIDTH - 50 - qr_size, HEIGHT - 50 - qr_size))
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()


def promoter_poster(code: str, product: Product | None, share_url: str, promoter_name: str = "") -> bytes:
    """A promoter's poster for ``product`` (or for the shop when None)."""
    if product is None:
        return render_poster(
            title="集市 · 好物都在这里",
            price=None,
            image_path=None,
            code=code,
            share_url=share_url,
            promoter_name=promoter_name,
        )
    first = product.images.order_by("sort", "id").first()
    return render_poster(
        title=product.name,
        price=product.price,
        image_path=first.image.path if first else None,
        code=code,
        share_url=share_url,
        promoter_name=promoter_name,
    )
