"""E-mail receipts: the vendors' tracking webhooks, parsed by django-anymail, → delivery rows.

``/notify/receipts/email/<esp>/`` hands the request to anymail's tracking view for that vendor,
which checks the vendor's own signature where it has one (Mailgun, SparkPost, Resend's
Svix signature, Amazon SES's SNS signature…) and the shared basic-auth secret
(``ANYMAIL["WEBHOOK_SECRET"]``). A vendor without a signature of its own is refused unless that
secret is configured, so a forged receipt never moves a row. Anymail sends one normalised
tracking event per report; this module maps it onto the delivery row found by the vendor's
message id:

- delivered → delivered; bounced / rejected / failed → failed with the reason (never retried);
- opened / clicked → read (an open proves delivery);
- complained / unsubscribed → the member's e-mail marketing is switched off (transactional
  notices still go), as the member asked.

Every change is a conditional update, so a replayed or late report changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from anymail.exceptions import AnymailConfigurationError, AnymailWebhookValidationFailure
from anymail.signals import AnymailTrackingEvent, EventType, tracking
from anymail.utils import get_anymail_setting
from anymail.webhooks import amazon_ses, brevo, mailgun, mailjet, postmark, resend, sparkpost
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import delivery
from .models import Channel, Delivery, MemberChannels

log = logging.getLogger(__name__)

TRACKING_VIEWS: dict[str, Any] = {
    "mailgun": mailgun.MailgunTrackingWebhookView,
    "postmark": postmark.PostmarkTrackingWebhookView,
    "sparkpost": sparkpost.SparkPostTrackingWebhookView,
    "mailjet": mailjet.MailjetTrackingWebhookView,
    "brevo": brevo.BrevoTrackingWebhookView,
    "resend": resend.ResendTrackingWebhookView,
    "amazon_ses": amazon_ses.AmazonSESTrackingWebhookView,
}
FAILED = {EventType.BOUNCED: "bounced", EventType.REJECTED: "rejected", EventType.FAILED: "failed"}
OPENED = (EventType.OPENED, EventType.CLICKED)
OPTED_OUT = (EventType.COMPLAINED, EventType.UNSUBSCRIBED)


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)


def _secret_configured() -> bool:
    return bool(get_anymail_setting("webhook_secret", default=None))


@csrf_exempt
def email_receipt(request: HttpRequest, esp: str) -> HttpResponse:
    view_class = TRACKING_VIEWS.get(esp)
    if view_class is None:
        return _error(404, "not_found", "unknown e-mail vendor")
    if request.method != "POST":
        return _error(405, "method_not_allowed", "POST only")
    if view_class.warn_if_no_basic_auth and not _secret_configured():
        return _error(403, "forbidden", "receipt not verified")  # nothing would authenticate it
    try:
        return view_class.as_view()(request)
    except AnymailConfigurationError:
        log.warning("e-mail receipt from %s refused: webhook verification is not configured", esp)
        return _error(403, "forbidden", "receipt not verified")
    except AnymailWebhookValidationFailure:
        log.warning("forged or unsigned e-mail receipt from %s refused", esp)
        return _error(403, "forbidden", "receipt not verified")
    except (KeyError, ValueError, TypeError, AttributeError):
        # verified, but not a shape anymail understands: the vendor should not retry it
        log.warning("malformed e-mail receipt from %s", esp, exc_info=True)
        return _error(400, "invalid", "malformed receipt")


def _reason(event: AnymailTrackingEvent) -> str:
    kind = FAILED.get(event.event_type, str(event.event_type))
    detail = event.reject_reason or (event.mta_response or "")[:24]
    return f"email:{kind}:{detail}"[:64] if detail else f"email:{kind}"


@receiver(tracking, dispatch_uid="jishi.notify.email_tracking")
def on_email_tracking(sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
    message_id = str(event.message_id or "")
    at = event.timestamp
    if event.event_type == EventType.DELIVERED:
        delivery.apply_receipt(Channel.EMAIL, message_id, delivered=True, at=at)
    elif event.event_type in FAILED:
        delivery.apply_receipt(Channel.EMAIL, message_id, delivered=False, reason=_reason(event), at=at)
    elif event.event_type in OPENED:
        delivery.apply_opened(Channel.EMAIL, message_id, at=at)
    elif event.event_type in OPTED_OUT:
        users = Delivery.objects.filter(channel=Channel.EMAIL, vendor_id=message_id).values("user_id")
        changed = MemberChannels.objects.filter(user_id__in=users, email_marketing=True).update(email_marketing=False)
        if changed:
            log.info("e-mail marketing switched off after %s (%s)", event.event_type, esp_name)
