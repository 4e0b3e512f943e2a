from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "jishi.payments"
    verbose_name = _("支付")

    def ready(self) -> None:
        from jishi.orders.hooks import register_refunder

        from .services import refund_to_origin

        register_refunder(refund_to_origin)
