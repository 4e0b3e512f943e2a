"""Member outreach: inbox messages (one per member and once-only key)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    ORDER = "order", _("订单")
    AFTER_SALE = "after_sale", _("售后")
    PROMOTION = "promotion", _("活动")
    COMMUNITY = "community", _("社区")
    SYSTEM = "system", _("系统")


class Message(models.Model):
    """One notice in one member's inbox. ``key`` makes a notice once-only per member."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox", verbose_name=_("会员")
    )
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices)
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    key = models.CharField(_("去重键"), max_length=120)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notify_message_once_per_key")]
        indexes = [
            models.Index(fields=["user", "-id"], name="notify_inbox_newest"),
            models.Index(fields=["user"], condition=models.Q(read_at__isnull=True), name="notify_inbox_unread"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def read(self) -> bool:
        return self.read_at is not None
