"""Vendor callbacks (receipts) under /notify/."""

from django.urls import path

from . import mail_receipts, receipts, views

app_name = "notify"
urlpatterns = [
    path("receipts/sms/aliyun/<str:secret>/", receipts.aliyun_sms_report, name="aliyun_sms_report"),
    path("receipts/sms/tencent/<str:secret>/", receipts.tencent_sms_report, name="tencent_sms_report"),
    path("receipts/wechat/", receipts.wechat_push, name="wechat_push"),
    path("receipts/email/<str:esp>/", mail_receipts.email_receipt, name="email_receipt"),
    path("c/<int:campaign_id>/", views.campaign_click, name="campaign_click"),
]
