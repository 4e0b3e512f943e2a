"""Campaign pages, included into the storefront's URLs (names ``storefront:mkt_*``)."""

from django.urls import path

from . import marketing_views as views

urlpatterns = [
    path("coupons/", views.coupon_centre, name="mkt_coupons"),
    path("coupons/<int:template_id>/claim/", views.coupon_claim, name="mkt_coupon_claim"),
    path("coupons/mine/", views.my_coupons, name="mkt_my_coupons"),
    path("flash/", views.flash_sale, name="mkt_flash"),
    path("flash/<int:item_id>/buy/", views.flash_buy, name="mkt_flash_buy"),
    path("groups/", views.group_buys, name="mkt_groups"),
    path("groups/<int:campaign_id>/open/", views.group_open, name="mkt_group_open"),
    path("group/<str:code>/", views.group_share, name="mkt_group"),
    path("group/<str:code>/join/", views.group_join, name="mkt_group_join"),
    path("bargains/", views.bargain_list, name="mkt_bargains"),
    path("bargains/start/<int:campaign_id>/", views.bargain_start, name="mkt_bargain_start"),
    path("bargains/<int:bargain_id>/", views.bargain_detail, name="mkt_bargain"),
    path("bargains/<int:bargain_id>/help/", views.bargain_help, name="mkt_bargain_help"),
    path("bargains/<int:bargain_id>/buy/", views.bargain_buy, name="mkt_bargain_buy"),
]
