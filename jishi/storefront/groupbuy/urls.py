"""Community group-buy pages, mounted at /groupbuy/ (``storefront:groupbuy``)."""

from django.urls import path

from . import views

app_name = "groupbuy"
urlpatterns = [
    path("", views.batch_page, name="batch"),
    path("order/", views.place, name="place"),
    path("leaders/", views.choose_leader, name="leaders"),
    path("pickups/", views.my_pickups, name="pickups"),
    path("s/<str:code>/", views.share, name="share"),
    path("apply/", views.apply, name="apply"),
    path("leader/", views.leader_home, name="leader"),
    path("leader/verify/", views.leader_verify, name="verify"),
    path("leader/pick-list/", views.leader_pick_list, name="pick_list"),
    path("leader/deliveries/", views.leader_deliveries, name="deliveries"),
    path("leader/deliveries/<int:batch_id>/", views.leader_delivery, name="delivery"),
    path("leader/members/", views.leader_members, name="members"),
    path("leader/withdraw/", views.leader_withdraw, name="withdraw"),
    path("leader/poster/", views.leader_poster, name="poster"),
]
