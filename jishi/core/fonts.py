"""The CJK font that pictures drawn with Pillow (demo images, share posters) set Chinese in.

`make` installs Debian's ``fonts-noto-cjk``; ``JISHI_CJK_FONT`` points at any other CJK font.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

NOTO = "/usr/share/fonts/opentype/noto"
CANDIDATES: dict[bool, tuple[str, ...]] = {
    False: (
        f"{NOTO}/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    ),
    True: (
        f"{NOTO}/NotoSansCJK-Bold.ttc",
        f"{NOTO}/NotoSansCJK-Black.ttc",
    ),
}

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=2)
def cjk_font_path(bold: bool = False) -> str | None:
    """The first CJK font found (bold falls back to regular), or None when none is installed."""
    configured = os.environ.get("JISHI_CJK_FONT") or os.environ.get("JISHI_POSTER_FONT")
    order = (*CANDIDATES[True], *CANDIDATES[False]) if bold else CANDIDATES[False]
    for candidate in (configured, *order):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@lru_cache(maxsize=64)
def cjk_font(size: int, bold: bool = False) -> Font:
    path = cjk_font_path(bold)
    if path:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def has_cjk_font() -> bool:
    return cjk_font_path() is not None


def printable(text: str) -> str:
    """Without any CJK font, Chinese is written in pinyin rather than as empty boxes."""
    if has_cjk_font() or text.isascii():
        return text
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin(text)).title()


def fit_font(text: str, max_width: int, size: int, *, bold: bool = False, min_size: int = 14) -> Font:
    """The largest font up to ``size`` in which ``text`` fits ``max_width`` pixels."""
    while size > min_size:
        font = cjk_font(size, bold)
        if font.getlength(text) <= max_width:
            return font
        size -= 2
    return cjk_font(min_size, bold)
