"""Storefront routes: pages at the site root, plus the PWA manifest and service worker."""

from django.urls import include, path

from . import buying, engagement_views, mine, views

app_name = "storefront"
urlpatterns = [
    path("", views.home, name="home"),
    path("categories/", views.categories, name="categories"),
    path("c/<int:category_id>/", views.category, name="category"),
    path("p/<int:product_id>/", views.product, name="product"),
    path("search/", views.search, name="search"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("legal/terms/", views.legal_page, {"page": "terms"}, name="terms"),
    path("legal/privacy/", views.legal_page, {"page": "privacy"}, name="privacy"),
    path("me/", views.me, name="me"),
    # buying
    path("cart/", buying.cart, name="cart"),
    path("cart/add/", buying.cart_add, name="cart_add"),
    path("cart/<int:sku_id>/", buying.cart_line, name="cart_line"),
    path("checkout/", buying.checkout, name="checkout"),
    path("checkout/address/", buying.checkout_address, name="checkout_address"),
    path("orders/<int:order_id>/pay/", buying.pay, name="pay"),
    path("pay/sandbox/<str:payment_no>/", buying.sandbox_cashier, name="sandbox_cashier"),
    path("pay/sandbox/<str:payment_no>/status/", buying.sandbox_status, name="sandbox_status"),
    # the buyer's own
    path("orders/", mine.order_list, name="orders"),
    path("orders/<int:order_id>/", mine.order_detail, name="order"),
    path("orders/<int:order_id>/cancel/", mine.order_cancel, name="order_cancel"),
    path("orders/<int:order_id>/confirm/", mine.order_confirm, name="order_confirm"),
    path("orders/<int:order_id>/after-sales/", mine.after_sale_new, name="after_sale_new"),
    path("orders/<int:order_id>/remind/", mine.order_remind, name="order_remind"),
    path("orders/<int:order_id>/rebuy/", mine.order_rebuy, name="order_rebuy"),
    path("orders/<int:order_id>/review/", engagement_views.order_review, name="order_review"),
    path("p/<int:product_id>/favourite/", engagement_views.favourite_toggle, name="favourite"),
    path("me/favourites/", engagement_views.favourites, name="favourites"),
    path("me/history/", engagement_views.history, name="history"),
    path("me/history/clear/", engagement_views.history_clear, name="history_clear"),
    path("after-sales/<int:case_id>/cancel/", mine.after_sale_cancel, name="after_sale_cancel"),
    path("addresses/", mine.addresses, name="addresses"),
    path("addresses/<int:address_id>/default/", mine.address_default, name="address_default"),
    path("addresses/<int:address_id>/delete/", mine.address_delete, name="address_delete"),
    path("promoter/", include("jishi.storefront.promoter_urls")),
    path("groupbuy/", include("jishi.storefront.groupbuy.urls")),
    path("", include("jishi.storefront.marketing_urls")),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="sw"),
]
