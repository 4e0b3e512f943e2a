"""Rebate pages (导购返利), mounted at /rebate/ (``rebate_pages``)."""

from django.urls import path

from . import views

app_name = "rebate_pages"
urlpatterns = [
    path("", views.feed, name="feed"),
    path("g/<int:goods_id>/", views.detail, name="detail"),
    path("g/<int:goods_id>/take/", views.take_coupon, name="take"),
    path("g/<int:goods_id>/poster.png", views.poster, name="poster"),
    path("taobao/callback/", views.taobao_callback, name="taobao_callback"),
    path("orders/", views.orders, name="orders"),
    path("balance/", views.balance, name="balance"),
]
