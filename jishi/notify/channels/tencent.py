"""SMS through Tencent Cloud's own SDK (``tencentcloud-sdk-python-sms``, SendSms, TC3-HMAC-SHA256)."""

from __future__ import annotations

import logging

from .. import conf
from .base import Outcome, Send

log = logging.getLogger(__name__)

PERMANENT_PREFIXES = (
    "InvalidParameterValue.IncorrectPhoneNumber",
    "FailedOperation.PhoneNumberInBlacklist",
    "FailedOperation.TemplateIncorrectOrUnapproved",
    "FailedOperation.SignatureIncorrectOrUnapproved",
    "UnsupportedOperation.",
)


class TencentSmsBackend:
    def __init__(self) -> None:
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        cfg = conf.notify_setting("TENCENT_SMS")
        self.cfg = cfg
        http = HttpProfile(
            protocol=cfg["PROTOCOL"], endpoint=cfg["ENDPOINT"], reqTimeout=conf.notify_setting("HTTP_TIMEOUT")
        )
        self.client = sms_client.SmsClient(
            credential.Credential(cfg["SECRET_ID"], cfg["SECRET_KEY"]), cfg["REGION"], ClientProfile(httpProfile=http)
        )

    def send(self, message: Send) -> Outcome:
        from tencentcloud.sms.v20210111 import models

        request = models.SendSmsRequest()
        request.SmsSdkAppId = self.cfg["SDK_APP_ID"]
        request.SignName = self.cfg["SIGN_NAME"]
        request.TemplateId = conf.notify_setting("SMS_TEMPLATES")[message.category]
        request.TemplateParamSet = [message.title[:20], message.body[:100]]
        phone = message.address if message.address.startswith("+") else f"+86{message.address}"
        request.PhoneNumberSet = [phone]
        request.SessionContext = str(message.delivery_id)
        response = self.client.SendSms(request)
        status = response.SendStatusSet[0]
        if status.Code == "Ok":
            return Outcome(ok=True, vendor_id=str(status.SerialNo))
        log.info("tencent sms refused delivery %s: %s %s", message.delivery_id, status.Code, status.Message)
        return Outcome(
            ok=False, reason=str(status.Code)[:64], permanent=str(status.Code).startswith(PERMANENT_PREFIXES)
        )
