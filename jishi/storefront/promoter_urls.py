"""Storefront promoter centre routes, mounted at /promoter/ inside the storefront (``storefront:promoter``)."""

from django.urls import path

from . import promoter_views as views

app_name = "promoter"
urlpatterns = [
    path("", views.centre, name="centre"),
    path("team/", views.team, name="team"),
    path("commissions/", views.commissions, name="commissions"),
    path("withdraw/", views.withdraw, name="withdraw"),
    path("poster/", views.poster_page, name="poster"),
    path("poster.png", views.poster_png, name="poster_png"),
    path("r/<str:code>/", views.referral, name="referral"),
]
