"""Product pictures drawn locally with Pillow: a gradient, a motif per category, a monogram.

Only latin text is drawn, with Pillow's bundled font, so no CJK font needs to be installed.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

IMAGE_SIDE = 480

RGB = tuple[int, int, int]

# (top-left colour, bottom-right colour, motif) per top-level category position
PALETTES: tuple[tuple[RGB, RGB, str], ...] = (
    ((196, 232, 178), (58, 125, 68), "leaf"),
    ((255, 214, 165), (230, 81, 60), "circle"),
    ((255, 236, 179), (214, 137, 16), "diamond"),
    ((255, 209, 220), (176, 74, 136), "drop"),
    ((207, 226, 243), (61, 108, 161), "house"),
    ((255, 240, 214), (244, 162, 97), "bubbles"),
    ((210, 214, 222), (52, 62, 84), "chip"),
    ((233, 221, 250), (103, 76, 158), "shirt"),
)


def _gradient(top: RGB, bottom: RGB, side: int, turn: int) -> Image.Image:
    vertical = Image.linear_gradient("L").resize((side, side))
    diagonal = Image.blend(vertical, vertical.rotate(90), 0.5).rotate(90 * turn)
    return Image.composite(Image.new("RGB", (side, side), bottom), Image.new("RGB", (side, side), top), diagonal)


def _motif(draw: ImageDraw.ImageDraw, motif: str, side: int, fill: RGB) -> None:
    c, r = side // 2, side // 4
    if motif == "leaf":
        draw.ellipse((c - r, c - r // 2 - 40, c + r, c + r // 2 - 40), fill=fill)
        draw.line((c - r, c - 40, c + r, c - 40), fill=(255, 255, 255), width=4)
    elif motif == "circle":
        draw.ellipse((c - r, c - r - 40, c + r, c + r - 40), fill=fill)
        draw.rectangle((c - 6, c - r - 70, c + 6, c - r - 30), fill=(90, 60, 30))
    elif motif == "diamond":
        draw.polygon([(c, c - r - 40), (c + r, c - 40), (c, c + r - 40), (c - r, c - 40)], fill=fill)
    elif motif == "drop":
        draw.ellipse((c - r, c - 40 - r // 3, c + r, c + r + r // 3 - 40), fill=fill)
        draw.polygon([(c, c - r - 90), (c + r - 8, c - 20), (c - r + 8, c - 20)], fill=fill)
    elif motif == "house":
        draw.polygon([(c, c - r - 60), (c + r + 20, c - 40), (c - r - 20, c - 40)], fill=fill)
        draw.rectangle((c - r, c - 40, c + r, c + r - 30), fill=fill)
    elif motif == "bubbles":
        for dx, dy, rr in ((-60, -70, 60), (50, -30, 45), (-10, 20, 35)):
            draw.ellipse((c + dx - rr, c + dy - rr, c + dx + rr, c + dy + rr), fill=fill)
    elif motif == "chip":
        draw.rounded_rectangle((c - r, c - r - 40, c + r, c + r - 40), radius=18, fill=fill)
        for i in range(5):
            x = c - r + 12 + i * (2 * r - 24) // 4
            draw.line((x, c - r - 60, x, c - r - 40), fill=fill, width=6)
            draw.line((x, c + r - 40, x, c + r - 20), fill=fill, width=6)
    else:  # shirt
        draw.polygon(
            [
                (c - r, c - r - 30),
                (c - 25, c - r - 45),
                (c + 25, c - r - 45),
                (c + r, c - r - 30),
                (c + r + 40, c - r + 30),
                (c + r - 10, c - r + 50),
                (c + r - 10, c + r - 20),
                (c - r + 10, c + r - 20),
                (c - r + 10, c - r + 50),
                (c - r - 40, c - r + 30),
            ],
            fill=fill,
        )


def _pattern(draw: ImageDraw.ImageDraw, variant: int, side: int) -> None:
    """A light overlay so a product's second and third pictures differ from the first."""
    tint = (255, 255, 255)
    if variant == 1:
        for i in range(-side, side, 36):
            draw.line((i, 0, i + side, side), fill=tint, width=3)
    elif variant == 2:
        for y in range(24, side, 48):
            for x in range(24, side, 48):
                draw.ellipse((x - 5, y - 5, x + 5, y + 5), fill=tint)


def product_image(category_index: int, monogram: str, variant: int = 0) -> bytes:
    """A JPEG of ``IMAGE_SIDE`` pixels: category colours and motif, ``monogram`` below."""
    top, bottom, motif = PALETTES[category_index % len(PALETTES)]
    side = IMAGE_SIDE
    image = _gradient(top, bottom, side, variant)
    draw = ImageDraw.Draw(image)
    _pattern(draw, variant, side)
    glow = tuple(min(255, int(v * 0.35 + 255 * 0.65)) for v in bottom)
    _motif(draw, motif, side, (glow[0], glow[1], glow[2]))
    band = tuple(int(v * 0.8) for v in bottom)
    draw.rectangle((0, int(side * 0.68), side, side), fill=(band[0], band[1], band[2]))
    font = ImageFont.load_default(size=max(24, int(side * 0.16 * min(1.0, 5 / max(1, len(monogram))))))
    draw.text((side // 2, int(side * 0.8)), monogram, font=font, fill=(255, 255, 255), anchor="mm")
    small = ImageFont.load_default(size=max(12, side // 24))
    draw.text((side - 16, side - 14), f"JISHI {variant + 1}", font=small, fill=(255, 255, 255), anchor="rd")
    # a thin frame that shifts with the variant keeps every picture distinct
    inset = 10 + 6 * variant
    draw.rectangle((inset, inset, side - inset, side - inset), outline=(255, 255, 255), width=2)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=82)
    return out.getvalue()


def monogram_for(name: str) -> str:
    """Latin initials of a Chinese name (西湖龙井茶 → XHLJC), at most six letters."""
    from pypinyin import Style, lazy_pinyin

    letters = [p[0] for p in lazy_pinyin(name, style=Style.FIRST_LETTER) if p and p[0].isalnum()]
    text = "".join(letters).upper()
    return text[:6] or "JISHI"
