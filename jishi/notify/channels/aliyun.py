"""SMS through Aliyun's own SDK (``alibabacloud-dysmsapi20170525``, SendSms, ACS3-HMAC-SHA256)."""

from __future__ import annotations

import json
import logging
from typing import Any

from .. import conf
from .base import Outcome, Send

log = logging.getLogger(__name__)

# Answers that will not change on a retry: the number, the template or the signature is wrong,
# or the recipient blocked the shop.
PERMANENT = {
    "isv.MOBILE_NUMBER_ILLEGAL",
    "isv.BLACK_KEY_CONTROL_LIMIT",
    "isv.SMS_TEMPLATE_ILLEGAL",
    "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.MOBILE_COUNT_OVER_LIMIT",
}


class AliyunSmsBackend:
    def __init__(self) -> None:
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.utils_models import Config

        cfg = conf.notify_setting("ALIYUN_SMS")
        self.sign_name = cfg["SIGN_NAME"]
        timeout_ms = conf.notify_setting("HTTP_TIMEOUT") * 1000
        self.client = Client(
            Config(
                access_key_id=cfg["ACCESS_KEY_ID"],
                access_key_secret=cfg["ACCESS_KEY_SECRET"],
                endpoint=cfg["ENDPOINT"],
                protocol=cfg["PROTOCOL"],
                connect_timeout=timeout_ms,
                read_timeout=timeout_ms,
            )
        )

    def send(self, message: Send) -> Outcome:
        from alibabacloud_dysmsapi20170525.models import SendSmsRequest

        params: dict[str, Any] = {"title": message.title, "content": message.body[:200], **message.params}
        request = SendSmsRequest(
            phone_numbers=message.address,
            sign_name=self.sign_name,
            template_code=conf.notify_setting("SMS_TEMPLATES")[message.category],
            template_param=json.dumps(params, ensure_ascii=False),
            out_id=str(message.delivery_id),
        )
        body = self.client.send_sms(request).body
        if body.code == "OK":
            return Outcome(ok=True, vendor_id=str(body.biz_id or ""))
        log.info("aliyun sms refused delivery %s: %s %s", message.delivery_id, body.code, body.message)
        return Outcome(ok=False, reason=str(body.code)[:64], permanent=body.code in PERMANENT)
