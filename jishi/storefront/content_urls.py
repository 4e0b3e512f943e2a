"""Storefront content routes (included under /content/ with the ``content_pages`` namespace)."""

from django.urls import path

from . import content_views as views

app_name = "content_pages"
urlpatterns = [
    path("", views.feed, name="feed"),
    path("p/<int:post_id>/", views.post_detail, name="post"),
    path("p/<int:post_id>/like/", views.post_like, name="like"),
    path("p/<int:post_id>/favourite/", views.post_favourite, name="favourite"),
    path("p/<int:post_id>/comment/", views.post_comment, name="comment"),
    path("p/<int:post_id>/share/", views.post_share, name="share"),
    path("p/<int:post_id>/edit/", views.edit, name="edit"),
    path("creators/<int:user_id>/follow/", views.follow, name="follow"),
    path("t/<int:topic_id>/", views.topic, name="topic"),
    path("write/", views.write, name="write"),
    path("mine/", views.mine, name="mine"),
]
