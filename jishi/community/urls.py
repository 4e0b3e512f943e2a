"""Storefront community routes (included under /community/ with the ``community_pages`` namespace)."""

from django.urls import path

from . import pages

app_name = "community_pages"
urlpatterns = [
    path("", pages.group_list, name="groups"),
    path("groups/<int:group_id>/", pages.group_detail, name="group"),
    path("groups/<int:group_id>/join/", pages.join, name="join"),
    path("groups/<int:group_id>/rules/ack/", pages.ack_rules, name="ack_rules"),
    path("groups/<int:group_id>/leave/", pages.leave, name="leave"),
    path("groups/<int:group_id>/topics/", pages.post_topic, name="post_topic"),
    path("groups/<int:group_id>/ranking/", pages.ranking, name="ranking"),
    path("groups/<int:group_id>/poster.png", pages.invite_poster, name="poster"),
    path("groups/<int:group_id>/coupons/<int:template_id>/claim/", pages.claim_coupon, name="claim_coupon"),
    path("join/<str:code>", pages.invite_landing, name="invite"),
    path("join/<str:code>/accept/", pages.join_by_invite, name="join_by_invite"),
    path("topics/<int:topic_id>/", pages.topic_detail, name="topic"),
    path("topics/<int:topic_id>/reply/", pages.reply, name="reply"),
    path("topics/<int:topic_id>/sign-up/", pages.sign_up, name="sign_up"),
    path("topics/<int:topic_id>/vote/", pages.vote, name="vote"),
    path("topics/<int:topic_id>/signups.csv", pages.signups_csv, name="signups_csv"),
    path("red-packets/<int:packet_id>/", pages.red_packet, name="red_packet"),
    path("red-packets/<int:packet_id>/claim/", pages.claim, name="claim"),
]
