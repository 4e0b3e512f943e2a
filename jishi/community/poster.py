"""Invite posters (邀请海报): a group's name, positioning and a QR code carrying the inviter's link.

The QR code encodes the member's own invite link, so whoever scans it joins with the inviter credited
(and, with distribution on, bound to them) exactly as the link does.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from jishi.core.fonts import cjk_font, printable
from jishi.distribution.poster import qr_png

from .models import Group

WIDTH, HEIGHT = 750, 1180
INK = (33, 37, 41)
GREY = (120, 124, 130)
QR_SIZE = 320
QR_BOX = ((WIDTH - QR_SIZE) // 2, 640)  # where the code sits (left, top): tests read it back there


def _hex(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    try:
        return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
    except ValueError:
        return 232, 245, 233


def _wrap(draw: ImageDraw.ImageDraw, text: str, size: int, width: int, lines: int) -> list[str]:
    font = cjk_font(size)
    out: list[str] = []
    line = ""
    for ch in printable(text):
        if draw.textlength(line + ch, font=font) > width:
            out.append(line)
            line = ch
            if len(out) == lines:
                out[-1] = out[-1][:-1] + "…"
                return out
        else:
            line += ch
    if line:
        out.append(line)
    return out


def qr_image(url: str) -> Image.Image:
    """The QR code as the poster draws it (tests compare the poster's pixels with it)."""
    return qr_png(url, scale=8).resize((QR_SIZE, QR_SIZE), Image.Resampling.NEAREST)


def invite_poster(group: Group, inviter_name: str, invite_url: str) -> bytes:
    """A 750×1180 PNG: the group on its cover colour, who invites, and the QR code of the invite link."""
    canvas = Image.new("RGB", (WIDTH, HEIGHT), _hex(group.cover_colour))
    draw = ImageDraw.Draw(canvas)
    card = (40, 220, WIDTH - 40, HEIGHT - 60)
    draw.rounded_rectangle(card, radius=32, fill="white")
    badge = 150
    draw.rounded_rectangle(
        ((WIDTH - badge) // 2, 130, (WIDTH + badge) // 2, 130 + badge), radius=36, fill=(255, 255, 255)
    )
    draw.text(
        (WIDTH // 2, 130 + badge // 2),
        printable(group.name[:1] or "群"),
        font=cjk_font(84, bold=True),
        fill=INK,
        anchor="mm",
    )
    draw.text((WIDTH // 2, 330), printable(group.name)[:16], font=cjk_font(46, bold=True), fill=INK, anchor="mm")
    y = 392
    for line in _wrap(draw, group.theme, 28, WIDTH - 160, 2):
        draw.text((WIDTH // 2, y), line, font=cjk_font(28), fill=GREY, anchor="mm")
        y += 42
    invite = f"{inviter_name} 邀请你加入" if inviter_name else "邀请你加入"
    draw.text((WIDTH // 2, 530), printable(invite)[:24], font=cjk_font(32, bold=True), fill=(230, 57, 70), anchor="mm")
    members = f"{group.member_count} 位群友在这里"
    draw.text((WIDTH // 2, 582), printable(members), font=cjk_font(24), fill=GREY, anchor="mm")
    canvas.paste(qr_image(invite_url), QR_BOX)
    draw.text(
        (WIDTH // 2, QR_BOX[1] + QR_SIZE + 50),
        printable("长按识别二维码，入群前请阅读群规"),
        font=cjk_font(26),
        fill=GREY,
        anchor="mm",
    )
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()
