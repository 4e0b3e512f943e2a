"""The site's URLs with the campaign pages included, until storefront/urls.py includes them."""

from django.urls import URLPattern, URLResolver, include, path

from jishi import urls as site
from jishi.storefront import marketing_urls
from jishi.storefront import urls as storefront

already = any(getattr(p, "name", "") == "mkt_coupons" for p in storefront.urlpatterns)
patterns: list[URLPattern | URLResolver] = list(storefront.urlpatterns)
if not already:
    patterns = list(marketing_urls.urlpatterns) + patterns
urlpatterns = [
    *[p for p in site.urlpatterns if not (isinstance(p, URLResolver) and p.app_name == "storefront")],
    path("", include((patterns, "storefront"))),
]
