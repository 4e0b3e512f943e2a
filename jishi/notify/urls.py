"""Vendor callbacks (receipts) under /notify/."""

from django.urls import path

from . import receipts

app_name = "notify"
urlpatterns = [
    path("receipts/sms/aliyun/<str:secret>/", receipts.aliyun_sms_report, name="aliyun_sms_report"),
    path("receipts/sms/tencent/<str:secret>/", receipts.tencent_sms_report, name="tencent_sms_report"),
    path("receipts/wechat/", receipts.wechat_push, name="wechat_push"),
]
