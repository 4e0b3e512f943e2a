"""Storefront new-retail routes (included under /stores/ with the ``retail_pages`` namespace)."""

from django.urls import path

from . import retail_views as views

app_name = "retail_pages"
urlpatterns = [
    path("", views.store_list, name="stores"),
    path("<int:store_id>/", views.store_page, name="store"),
    path("member-code/", views.member_code, name="member_code"),
    path("pos/", views.pos_page, name="pos"),
    path("pos/sales/<int:order_id>/", views.receipt, name="receipt"),
]
