"""Home page banners (轮播图): the live slides, and the uploaded picture cropped to the carousel's shape."""

from __future__ import annotations

import io
import uuid
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from jishi.core.errors import InvalidInput

from .models import Banner

BANNER_SIZE = (1080, 480)
MAX_LIVE = 8


def live(now: datetime) -> Q:
    """Active banners whose window covers ``now`` (an empty end means open-ended)."""
    return (
        Q(is_active=True)
        & (Q(starts_at__isnull=True) | Q(starts_at__lte=now))
        & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    )


def live_banners(now: datetime | None = None, limit: int = MAX_LIVE) -> list[Banner]:
    """The carousel's slides in operator order: one query."""
    return list(Banner.objects.filter(live(now or timezone.now())).order_by("sort", "id")[:limit])


def is_live(banner: Banner, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return (
        banner.is_active
        and (banner.starts_at is None or banner.starts_at <= now)
        and (banner.ends_at is None or banner.ends_at > now)
    )


def normalise_image(raw: bytes) -> bytes:
    """Decode, crop to the carousel's 9:4 and re-encode: what is stored is a JPEG we wrote ourselves."""
    try:
        with Image.open(io.BytesIO(raw)) as source:
            source.load()
            rgb = ImageOps.exif_transpose(source).convert("RGB")
            fitted = ImageOps.fit(rgb, BANNER_SIZE, Image.Resampling.LANCZOS)
            out = io.BytesIO()
            fitted.save(out, format="JPEG", quality=85, optimize=True)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidInput(
            _("不是有效的图片"), code="invalid_image", fields={"image": [str(_("不是有效的图片"))]}
        ) from exc
    return out.getvalue()


def image_file(raw: bytes) -> ContentFile[bytes]:
    """The normalised picture as a file an ImageField can save under a fresh name."""
    return ContentFile(normalise_image(raw), name=f"{uuid.uuid4().hex}.jpg")


def create_banner(data: dict[str, Any], raw_image: bytes) -> Banner:
    """A banner from operator input (title, subtitle, link, sort, window, is_active) and a picture."""
    banner = Banner(**data)
    try:
        banner.full_clean(exclude=["image"])
    except ValidationError as exc:
        fields = {name: [str(m) for m in messages] for name, messages in exc.message_dict.items()}
        raise InvalidInput(code="invalid_banner", fields=fields) from exc
    banner.image = image_file(raw_image)  # type: ignore[assignment]
    banner.save()
    return banner
