"""Storefront routes: pages at the site root, plus the PWA manifest and service worker."""

from django.urls import path

from . import views

app_name = "storefront"
urlpatterns = [
    path("", views.home, name="home"),
    path("categories/", views.categories, name="categories"),
    path("c/<int:category_id>/", views.category, name="category"),
    path("p/<int:product_id>/", views.product, name="product"),
    path("search/", views.search, name="search"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("me/", views.me, name="me"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="sw"),
]
