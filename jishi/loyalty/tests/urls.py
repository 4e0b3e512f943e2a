"""The site's URLs plus the storefront loyalty pages, until jishi/storefront/urls.py includes them."""

from django.urls import include, path

from jishi.urls import urlpatterns as site_urlpatterns

urlpatterns = [path("loyalty/", include("jishi.storefront.loyalty_urls")), *site_urlpatterns]
