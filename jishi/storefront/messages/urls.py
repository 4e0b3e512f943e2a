"""Message centre routes under /messages/."""

from django.urls import path

from . import views

app_name = "storefront_messages"
urlpatterns = [
    path("", views.centre, name="centre"),
    path("<int:message_id>/open/", views.open_message, name="open"),
    path("read-all/", views.read_all, name="read_all"),
    path("badge/", views.badge, name="badge"),
    path("settings/", views.notice_settings, name="settings"),
]
