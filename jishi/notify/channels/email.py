"""E-mail through Django's mail API (``EMAIL_BACKEND``: SMTP, or an anymail vendor backend)."""

from __future__ import annotations

from smtplib import SMTPRecipientsRefused

from django.conf import settings
from django.core.mail import EmailMessage

from .. import conf
from .base import Outcome, Send


class DjangoMailBackend:
    def send(self, message: Send) -> Outcome:
        body = message.body
        if message.link:
            body = f"{body}\n\n{conf.public_url(message.link)}"
        mail = EmailMessage(
            subject=message.title,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.address],
            headers={"X-Jishi-Delivery": str(message.delivery_id)},
        )
        try:
            mail.send()
        except SMTPRecipientsRefused:
            return Outcome(ok=False, reason="address_refused", permanent=True)
        except OSError as exc:
            return Outcome(ok=False, reason=f"smtp:{type(exc).__name__}"[:64])
        # anymail records the vendor's message id on the message; plain SMTP has none.
        status = getattr(mail, "anymail_status", None)
        vendor_id = str(getattr(status, "message_id", "") or "") or f"mail-{message.delivery_id}"
        return Outcome(ok=True, vendor_id=vendor_id[:128])
