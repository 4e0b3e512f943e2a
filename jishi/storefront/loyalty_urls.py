"""Storefront loyalty routes (included under /loyalty/ with the ``loyalty_pages`` namespace)."""

from django.urls import path

from . import loyalty_views as views

app_name = "loyalty_pages"
urlpatterns = [
    path("", views.my_points, name="points"),
    path("level/", views.my_level, name="level"),
    path("sign-in/", views.sign_in_page, name="sign_in"),
    path("mall/", views.mall_list, name="mall"),
    path("mall/<int:item_id>/", views.mall_item, name="mall_item"),
    path("mall/redeemed/<int:order_id>/", views.redeemed, name="redeemed"),
    path("red-packets/", views.my_red_packets, name="red_packets"),
    path("red-packets/<int:packet_id>/claim/", views.claim_red_packet, name="claim_red_packet"),
]
