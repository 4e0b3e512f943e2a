"""The installable-app side of the storefront: web manifest and the service worker's shell list."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.utils.translation import gettext as _

THEME_COLOR = "#ff4d2d"
BACKGROUND_COLOR = "#ffffff"
ICON_SIZES = (192, 512)

# Everything the shell needs to start offline; all of it static, none of it per user.
SHELL_ASSETS = (
    "storefront/css/shop.css",
    "storefront/js/app.js",
    "storefront/vendor/htmx.min.js",
    *(f"storefront/icons/icon-{size}.png" for size in ICON_SIZES),
)

# Pages under these prefixes hold one person's data or are not pages at all: never cached.
UNCACHED_PREFIXES = (
    "/api/",
    "/console/",
    "/me/",
    "/login/",
    "/logout/",
    "/cart/",
    "/checkout/",
    "/orders/",
    "/after-sales/",
    "/pay/",
    "/addresses/",
    "/i18n/",
)


def shell_urls() -> list[str]:
    return [static(path) for path in SHELL_ASSETS]


@lru_cache(maxsize=1)
def shell_version() -> str:
    """A digest of the shell files: a new deploy changes sw.js, so browsers drop old caches."""
    digest = hashlib.sha256()
    for path in SHELL_ASSETS:
        found = finders.find(path)
        if isinstance(found, str):
            with open(found, "rb") as fh:
                digest.update(fh.read())
        digest.update(path.encode())
    return digest.hexdigest()[:12]


def manifest() -> dict[str, Any]:
    return {
        "name": "集市",
        "short_name": "集市",
        "description": _("好物直供，会员社交电商"),
        "lang": "zh-Hans",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [
            {
                "src": static(f"storefront/icons/icon-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any maskable",
            }
            for size in ICON_SIZES
        ],
    }
