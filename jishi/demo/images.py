"""Demo pictures drawn locally with Pillow: product shots, post covers and points-mall goods.

Each category has its own colours and still life; the product's Chinese name is set in the CJK
font `make` installs (``jishi.core.fonts``), so the demo shop looks like a shop, not a test page.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageFilter

from jishi.core.fonts import cjk_font, fit_font, printable

IMAGE_SIDE = 480
POST_SIZE = (600, 800)

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]

# (light colour, deep colour, still life) per top-level category position (catalogue order)
PALETTES: tuple[tuple[RGB, RGB, str], ...] = (
    ((226, 240, 214), (70, 120, 64), "tea"),
    ((255, 226, 204), (222, 84, 58), "fruit"),
    ((255, 238, 196), (196, 122, 28), "snack"),
    ((252, 222, 230), (182, 72, 118), "beauty"),
    ((222, 234, 246), (62, 104, 150), "home"),
    ((255, 242, 222), (230, 146, 84), "baby"),
    ((222, 226, 234), (48, 58, 80), "digital"),
    ((236, 228, 250), (104, 78, 160), "fashion"),
)
GIFT: tuple[RGB, RGB, str] = ((255, 232, 214), (214, 60, 52), "gift")
VARIANT_NOTES = ("", "细节展示", "实拍图")


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (int(a[0] + (b[0] - a[0]) * t), int(a[1] + (b[1] - a[1]) * t), int(a[2] + (b[2] - a[2]) * t))


def _gradient(top: RGB, bottom: RGB, size: tuple[int, int]) -> Image.Image:
    mask = Image.linear_gradient("L").resize(size)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)


def _shadow(image: Image.Image, box: Box, blur: int = 14) -> None:
    """A soft floor shadow under the still life."""
    layer = Image.new("L", image.size, 0)
    ImageDraw.Draw(layer).ellipse(box, fill=110)
    layer = layer.filter(ImageFilter.GaussianBlur(blur))
    image.paste(Image.new("RGB", image.size, (60, 50, 40)), (0, 0), layer)


# --- still lifes, drawn around a centre (cx, cy) at scale s (1.0 ≈ a 480 px picture) -------------


def _tea(d: ImageDraw.ImageDraw, cx: int, cy: int, s: float, deep: RGB, light: RGB) -> None:
    w = int(150 * s)
    d.rounded_rectangle((cx - w, cy - int(40 * s), cx + w, cy + int(90 * s)), radius=int(50 * s), fill="white")
    d.ellipse((cx - w, cy - int(70 * s), cx + w, cy - int(10 * s)), fill=_mix(deep, (255, 255, 255), 0.35))
    d.arc(
        (cx + w - int(30 * s), cy - int(20 * s), cx + w + int(70 * s), cy + int(60 * s)),
        -80,
        80,
        fill="white",
        width=int(16 * s),
    )
    for dx, rot in ((-60, -30), (10, 20), (70, -10)):
        x, y = cx + int(dx * s), cy - int(130 * s)
        d.ellipse((x - int(26 * s), y - int(46 * s), x + int(26 * s), y + int(46 * s)), fill=deep)
        d.line((x, y - int(40 * s), x + int(rot * s * 0.3), y + int(40 * s)), fill=light, width=max(2, int(3 * s)))


def _fruit(d: ImageDraw.ImageDraw, cx: int, cy: int, s: float, deep: RGB, light: RGB) -> None:
    for dx, dy, r, t in ((-80, 20, 78, 0.0), (70, 30, 70, 0.2), (0, -50, 86, 0.1)):
        x, y, rr = cx + int(dx * s), cy + int(dy * s), int(r * s)
        colour = _mix(deep, (255, 170, 60), t)
        d.ellipse((x - rr, y - rr, x + rr, y + rr), fill=colour)
        d.ellipse((x - rr // 2, y - rr + rr // 5, x - rr // 8, y - rr // 3), fill=_mix(colour, (255, 255, 255), 0.45))
        d.line((x, y - rr, x + int(8 * s), y - rr - int(26 * s)), fill=(96, 64, 30), width=max(3, int(6 * s)))
        d.ellipse((x + int(6 * s), y - rr - int(30 * s), x + int(44 * s), y - rr - int(8 * s)), fill=(86, 150, 70))


def _snack(d: ImageDraw.ImageDraw, cx: int, cy: int, s: float, deep: RGB, light: RGB) -> None:
    w, h = int(110 * s), int(150 * s)
    d.polygon(
        [(cx - w, cy - h), (cx + w, cy - h), (cx + w - int(12 * s), cy + h), (cx - w + int(12 * s), cy + h)], fill=deep
    )
    d.rectangle((cx - w, cy - h, cx + w, cy - h + int(26 * s)), fill=_mix(deep, (0, 0, 0), 0.2))
    r = int(52 * s)
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_mix(light, (255, 255, 255), 0.5))
    for dx, dy in ((-20, -14), (16, -4), (-6, 20), (22, 22)):
        x, y = cx + int(dx * s), cy + int(dy * s)
        d.ellipse((x - int(7 * s), y - int(7 * s), x + int(7 * s), y + int(7 * s)), fill=(110, 66, 30))
    for dx in (-170, 165):
        x, y, rr = cx + int(dx * s), cy + int(110 * s), int(38 * s)
        d.ellipse((x - rr, y - rr, x + rr, y + rr), fill=_mix(deep, (255, 220, 150), 0.55))


def _beauty(d: ImageDraw.ImageDraw, cx: int, cy: int, s: float, deep: RGB, light: RGB) -> None:
    w, h = int(70 * s), int(130 * s)
    d.rounded_rectangle((cx - w - int(60 * s), cy - h, cx + w - int(60 * s), cy + h), radius=int(26 * s), fill=deep)
    d.rectangle((cx - int(90 * s), cy - h - int(50 * s), cx - int(30 * s), cy - h), fill=(60, 40, 50))
    d.rounded_rectangle(
        (cx - w - int(44 * s), cy - int(30 * s), cx + w - int(76 * s), cy + int(40 * s)),
        radius=int(8 * s),
        fill="white",
    )
    r = int(64 * s)
    x, y = cx + int(90 * s), cy + int(60 * s)
    d.ellipse((x - r, y - r // 2, x + r, y + r // 2 + int(30 * s)), fill=_mix(deep, (255, 255, 255), 0.5))
    d.ellipse((x - r, y - r // 2 - int(20 * s), x + r, y + r // 2 - int(10 * s)), fill=_mix(light, deep, 0.3))


def _home(d: ImageDraw.ImageDraw, cx: int, cy: int, s: float, deep: RGB, light: RGB) -> None:
    w = int(150 * s)
    d.polygon(
        [(cx, cy - int(170 * s)), (cx + w + int(30 * s), cy - int(40 * s)), (cx - w - int(30 * s), cy - int(40 * s))],
        fill=deep,
    )
    d.rectangle((cx - w, cy - int(40 * s), cx + w, cy + int(120 * s)), fill="white")
    d.rounded_rectangle(
        (cx - int(34 * s), cy + int(20 * s), cx + int(34 * s), cy + int(120 * s)), radius=int(8 * s), fill=deep
    )
    for dx in (-100, 70):
        x = cx + int(dx * s)
        d.rectangle((x, cy - int(10 * s), x + int(40 * s), cy + int(30 * s)), fill=_mix(light, deep, 0.4))


def _baby(d: ImageDraw.ImageDraw, cx: int, cy: int, s: float, deep: RGB, light: RGB) -> None:
    w, h = int(62 * s), int(120 * s)
    d.rounded_rectangle((cx - w, cy - h + int(30 * s), cx + w, cy + h), radius=int(30 * s), fill="white")
    d.rectangle((cx - w - int(6 * s), cy - h + int(10 * s), cx + w + int(6 * s), cy - h + int(44 * s)), fill=deep)
    d.ellipse((cx - int(30 * s), cy - h - int(50 * s), cx + int(30 * s), cy - h + int(20 * s)), fill=(246, 196, 150))
    for i in range(4):
        y = cy - int(20 * s) + i * int(34 * s)
        d.line((cx - w + int(12 * s), y, cx - w + int(40 * s), y), fill=deep, width=max(2, int(4 * s)))
    for dx, dy, r in ((-150, 70, 40), (150, 40, 30), (140, 110, 22)):
        x, y, rr = cx + int(dx * s), cy + int(dy * s), int(r * s)
        d.ellipse((x - rr, y - rr, x + rr, y + rr), fill=_mix(deep, (255, 255, 255), 0.4))


def _digital(d: ImageDraw.ImageDraw, cx: int, cy: int, s: float, deep: RGB, light: RGB) -> None:
    w, h = int(80 * s), int(150 * s)
    d.rounded_rectangle((cx - w - int(50 * s), cy - h, cx + w - int(50 * s), cy + h), radius=int(22 * s), fill=deep)
    d.rounded_rectangle(
        (cx - w - int(40 * s), cy - h + int(16 * s), cx + w - int(60 * s), cy + h - int(30 * s)),
        radius=int(10 * s),
        fill=_mix(light, (120, 170, 230), 0.6),
    )
    x, y, r = cx + int(110 * s), cy + int(70 * s), int(54 * s)
    d.ellipse((x - r, y - r, x + r, y + r), fill="white")
    d.ellipse((x - r // 2, y - r // 2, x + r // 2, y + r // 2), fill=deep)
    d.line((x, y - r, x + int(40 * s), y - r - int(90 * s)), fill="white", width=max(3, int(8 * s)))


def _fashion(d: ImageDraw.ImageDraw, cx: int, cy: int, s: float, deep: RGB, light: RGB) -> None:
    def p(x: int, y: int) -> tuple[int, int]:
        return cx + int(x * s), cy + int(y * s)

    d.polygon(
        [
            p(-60, -140),
            p(-20, -150),
            p(20, -150),
            p(60, -140),
            p(150, -80),
            p(115, -30),
            p(80, -55),
            p(80, 140),
            p(-80, 140),
            p(-80, -55),
            p(-115, -30),
            p(-150, -80),
        ],
        fill=deep,
    )
    d.arc((*p(-30, -170), *p(30, -120)), 0, 180, fill=light, width=max(3, int(8 * s)))
    for y in (-40, 20, 80):
        d.ellipse((*p(-6, y - 6), *p(6, y + 6)), fill=light)


def _gift(d: ImageDraw.ImageDraw, cx: int, cy: int, s: float, deep: RGB, light: RGB) -> None:
    w = int(130 * s)
    d.rectangle((cx - w, cy - int(40 * s), cx + w, cy + int(120 * s)), fill=deep)
    d.rectangle(
        (cx - w - int(14 * s), cy - int(80 * s), cx + w + int(14 * s), cy - int(30 * s)),
        fill=_mix(deep, (0, 0, 0), 0.15),
    )
    gold = (246, 198, 88)
    d.rectangle((cx - int(18 * s), cy - int(80 * s), cx + int(18 * s), cy + int(120 * s)), fill=gold)
    d.ellipse(
        (cx - int(90 * s), cy - int(140 * s), cx - int(4 * s), cy - int(76 * s)),
        outline=gold,
        width=max(4, int(14 * s)),
    )
    d.ellipse(
        (cx + int(4 * s), cy - int(140 * s), cx + int(90 * s), cy - int(76 * s)),
        outline=gold,
        width=max(4, int(14 * s)),
    )


STILL_LIFES: dict[str, Callable[[ImageDraw.ImageDraw, int, int, float, RGB, RGB], None]] = {
    "tea": _tea,
    "fruit": _fruit,
    "snack": _snack,
    "beauty": _beauty,
    "home": _home,
    "baby": _baby,
    "digital": _digital,
    "fashion": _fashion,
    "gift": _gift,
}


def _decorate(d: ImageDraw.ImageDraw, size: tuple[int, int], variant: int, tint: RGB) -> None:
    """Background marks so a product's second and third pictures differ from the first."""
    w, h = size
    if variant == 1:
        for i in range(-h, w, 44):
            d.line((i, 0, i + h, h), fill=tint, width=2)
    elif variant == 2:
        for y in range(30, h, 60):
            for x in range(30, w, 60):
                d.ellipse((x - 4, y - 4, x + 4, y + 4), fill=tint)
    else:
        d.ellipse((w - 170, -90, w + 90, 170), fill=tint)
        d.ellipse((-80, h // 2 - 40, 90, h // 2 + 130), fill=tint)


def _pill(
    d: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, size: int, fill: RGB, colour: RGB, right: bool = False
) -> None:
    font = cjk_font(size, bold=True)
    width = int(font.getlength(text)) + size
    x, y = xy
    if right:
        x -= width
    d.rounded_rectangle((x, y, x + width, y + size + size // 2 + 2), radius=size, fill=fill)
    d.text((x + size // 2, y + size // 4 + size // 2 + 1), text, font=font, fill=colour, anchor="lm")


def _scene(palette: tuple[RGB, RGB, str], size: tuple[int, int], variant: int, art_box: Box) -> Image.Image:
    light, deep, life = palette
    image = _gradient(_mix(light, (255, 255, 255), 0.35), light, size)
    draw = ImageDraw.Draw(image)
    _decorate(draw, size, variant, _mix(light, (255, 255, 255), 0.55))
    x0, y0, x1, y1 = art_box
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    s = min(x1 - x0, y1 - y0) / 380 * (1.0 + 0.12 * variant)
    _shadow(image, (cx - int(190 * s), cy + int(120 * s), cx + int(190 * s), cy + int(175 * s)))
    draw = ImageDraw.Draw(image)
    STILL_LIFES[life](draw, cx, cy, s, deep, light)
    return image


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=86)
    return out.getvalue()


def product_image(category_index: int, name: str, variant: int = 0, *, category: str = "", subtitle: str = "") -> bytes:
    """A square JPEG: the category's still life, a name card with ``name`` in Chinese, a tag."""
    palette = PALETTES[category_index % len(PALETTES)]
    return _product_card(palette, name, variant, category=category, subtitle=subtitle)


def mall_image(name: str, note: str = "积分兑换") -> bytes:
    """A points-mall item: a gift box and the item's name."""
    return _product_card(GIFT, name, 0, category=note, subtitle="")


def _product_card(palette: tuple[RGB, RGB, str], name: str, variant: int, *, category: str, subtitle: str) -> bytes:
    side = IMAGE_SIDE
    _light, deep, _life = palette
    card_top = int(side * 0.72)
    image = _scene(palette, (side, side), variant, (40, 40, side - 40, card_top - 10))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((22, card_top, side - 22, side - 22), radius=22, fill=(255, 255, 255))
    title = printable(name)
    draw.text(
        (44, card_top + 38), title, font=fit_font(title, side - 88, 44, bold=True), fill=(40, 36, 34), anchor="lm"
    )
    line = printable(subtitle or VARIANT_NOTES[variant % len(VARIANT_NOTES)] or "集市优选 · 品质好物")
    draw.text((44, card_top + 86), line, font=fit_font(line, side - 88, 22), fill=(128, 120, 114), anchor="lm")
    if category:
        _pill(draw, (22, 22), printable(category), 22, deep, (255, 255, 255))
    _pill(draw, (side - 22, 22), printable("集市优选"), 20, (230, 57, 70), (255, 255, 255), right=True)
    if variant:
        _pill(
            draw, (22, card_top - 48), printable(VARIANT_NOTES[variant % len(VARIANT_NOTES)]), 18, (255, 255, 255), deep
        )
    return _jpeg(image)


def post_image(category_index: int, title: str, badge: str, product_name: str, variant: int = 0) -> bytes:
    """A 3:4 post cover: the product's still life, the post's title and its form as a badge."""
    palette = PALETTES[category_index % len(PALETTES)]
    width, height = POST_SIZE
    image = _scene(palette, POST_SIZE, (variant + 1) % 3, (130, 250, width - 130, height - 130))
    draw = ImageDraw.Draw(image)
    _light, deep, _life = palette
    _pill(draw, (32, 36), printable(badge), 26, deep, (255, 255, 255))
    text = printable(title)
    font = cjk_font(46, bold=True)
    lines, current = [], ""
    for ch in text:
        if font.getlength(current + ch) > width - 80:
            lines.append(current)
            current = ch
        else:
            current += ch
    lines.append(current)
    for i, part in enumerate(lines[:2]):
        draw.text((36, 110 + i * 60), part, font=font, fill=(40, 36, 34))
    caption = printable(f"# {product_name}")
    draw.rounded_rectangle((24, height - 80, width - 24, height - 24), radius=28, fill=(255, 255, 255))
    draw.text((48, height - 52), caption, font=fit_font(caption, width - 100, 26), fill=deep, anchor="lm")
    return _jpeg(image)


BANNER_SIZE = (1080, 480)


def banner_image(category_index: int, title: str, subtitle: str, badge: str) -> bytes:
    """A 9:4 home carousel slide: a warm gradient, the category's still life on the right, the title in Chinese."""
    light, deep, life = PALETTES[category_index % len(PALETTES)]
    width, height = BANNER_SIZE
    across = Image.linear_gradient("L").rotate(90).resize((width, height))  # dark left → light right
    warm = Image.new("RGB", (width, height), _mix(deep, (255, 130, 60), 0.45))
    image = Image.composite(Image.new("RGB", (width, height), _mix(deep, (0, 0, 0), 0.12)), warm, across)
    draw = ImageDraw.Draw(image)
    glow = _mix(light, (255, 255, 255), 0.2)
    draw.ellipse((width - 470, -120, width + 130, 480), fill=_mix(deep, glow, 0.35))
    draw.ellipse((width - 380, 60, width - 20, 420), fill=_mix(deep, glow, 0.6))
    cx, cy, s = width - 210, 250, 0.78
    _shadow(image, (cx - int(190 * s), cy + int(120 * s), cx + int(190 * s), cy + int(175 * s)))
    draw = ImageDraw.Draw(image)
    STILL_LIFES[life](draw, cx, cy, s, deep, light)
    _pill(draw, (56, 64), printable(badge), 30, (255, 214, 102), _mix(deep, (0, 0, 0), 0.3))
    heading = printable(title)
    draw.text((56, 200), heading, font=fit_font(heading, width - 520, 84, bold=True), fill=(255, 255, 255), anchor="lm")
    line = printable(subtitle)
    draw.text((58, 290), line, font=fit_font(line, width - 520, 38), fill=(255, 240, 228), anchor="lm")
    draw.rounded_rectangle((56, 346, 276, 410), radius=32, fill=(255, 255, 255))
    go = printable("立即查看 ›")
    draw.text((166, 378), go, font=cjk_font(30, bold=True), fill=deep, anchor="mm")
    return _jpeg(image)
