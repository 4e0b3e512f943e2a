"""URL map: storefront at /, console at /console/, REST API at /api/v1/."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.static import serve

from jishi.api import api
from jishi.core import views as core_views

admin.site.site_header = _("集市 Jishi 运营后台")
admin.site.site_title = _("集市 Jishi")
admin.site.index_title = _("运营后台")

urlpatterns = [
    path("healthz", core_views.healthz),
    path("readyz", core_views.readyz),
    path("i18n/", include("django.conf.urls.i18n")),
    path("console/", admin.site.urls),
    path("api/v1/", api.urls),
    path("notify/", include("jishi.notify.urls")),
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    path("loyalty/", include("jishi.storefront.loyalty_urls")),
    path("content/", include("jishi.storefront.content_urls")),
    path("", include("jishi.storefront.urls")),
]
