from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "jishi.payments"
    verbose_name = _("支付")

    def ready(self) -> None:
        from jishi.orders.hooks import Refunder, register_refunder

        from . import services

        register_refunder(
            Refunder(
                request=services.request_refund,
                execute=services.execute_refund,
                execute_after_commit=services.execute_refund_after_commit,
            )
        )
