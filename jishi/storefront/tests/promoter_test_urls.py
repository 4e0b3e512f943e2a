"""The site's URLs with the promoter pages mounted at /promoter/ inside the storefront namespace (for tests)."""

from django.urls import URLResolver, include, path

from jishi import urls as site
from jishi.storefront import urls as storefront

# Same namespace as the real mount: ``storefront:promoter:<name>``. Harmless once storefront/urls.py has the include.
storefront_with_promoter = (
    [path("promoter/", include("jishi.storefront.promoter_urls")), *storefront.urlpatterns],
    "storefront",
)
urlpatterns = [
    *(p for p in site.urlpatterns if not (isinstance(p, URLResolver) and p.namespace == "storefront")),
    path("", include(storefront_with_promoter)),
]
