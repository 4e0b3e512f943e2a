"""Core data: the double-entry ledger, the event outbox, idempotency and audit records."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    WALLET = "wallet", _("余额")
    COMMISSION_FROZEN = "commission_frozen", _("冻结佣金")
    COMMISSION_AVAILABLE = "commission_available", _("可提现佣金")
    COMMISSION_DEBT = "commission_debt", _("佣金欠款")
    REBATE = "rebate", _("返利")
    RED_PACKET = "red_packet", _("红包")
    POINTS = "points", _("积分")
    # Platform accounts (no owner) may go negative: they are the other side of user money.
    PLATFORM_CASH = "platform_cash", _("平台收款")
    PLATFORM_REVENUE = "platform_revenue", _("平台收入")
    PLATFORM_PAYABLE = "platform_payable", _("平台应付")
    PLATFORM_EXPENSE = "platform_expense", _("平台费用")
    PLATFORM_BUDGET = "platform_budget", _("平台预算")
    PLATFORM_POINTS = "platform_points", _("积分发行")
    PLATFORM_TOPUP = "platform_topup", _("充值")


class Unit(models.TextChoices):
    FEN = "fen", _("分")
    POINT = "point", _("积分")


class Account(models.Model):
    """One balance. ``key`` names it uniquely: ``user:42:wallet`` or ``platform:cash``."""

    key = models.CharField(max_length=120, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_accounts",
    )
    kind = models.CharField(max_length=32, choices=AccountKind.choices)
    unit = models.CharField(max_length=8, choices=Unit.choices, default=Unit.FEN)
    balance = models.BigIntegerField(default=0)
    allow_negative = models.BooleanField(default=False)
    # Platform accounts take a posting from nearly every order: keeping a running balance on
    # their row would serialise all checkouts on one lock, so theirs is summed from entries.
    track_balance = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("账户")
        verbose_name_plural = _("账户")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(allow_negative=True) | models.Q(balance__gte=0),
                name="account_balance_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["owner", "kind"])]

    def __str__(self) -> str:
        return self.key


class Transaction(models.Model):
    """A balanced posting. ``key`` is unique so a replay posts nothing twice."""

    key = models.CharField(max_length=160, unique=True)
    kind = models.CharField(max_length=48, db_index=True)
    reference = models.CharField(max_length=120, db_index=True, blank=True)
    memo = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("记账凭证")
        verbose_name_plural = _("记账凭证")

    def __str__(self) -> str:
        return f"{self.kind} {self.reference}"


class Entry(models.Model):
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()

    class Meta:
        verbose_name = _("分录")
        verbose_name_plural = _("分录")
        indexes = [models.Index(fields=["account", "transaction"])]


class OutboxEvent(models.Model):
    """An event written in the same transaction as the change it announces."""

    name = models.CharField(max_length=64, db_index=True)
    # The aggregate the event belongs to (``order:42``): its events reach each handler in order.
    key = models.CharField(max_length=80, blank=True, default="")
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    dead = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("事件")
        verbose_name_plural = _("事件")
        indexes = [
            models.Index(
                fields=["id"],
                name="outbox_pending_idx",
                condition=models.Q(dispatched_at__isnull=True, dead=False),
            ),
            models.Index(
                fields=["key", "id"],
                name="outbox_undispatched_key_idx",
                condition=models.Q(dispatched_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}#{self.pk}"


class HandlerRun(models.Model):
    """Proof that one handler applied one event: committed with the handler's effects."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="runs")
    handler = models.CharField(max_length=160)
    done_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "handler"], name="handler_run_once"),
        ]


class IdempotencyRecord(models.Model):
    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_once"),
        ]


class RateCounter(models.Model):
    """A fixed-window counter for rate limits when Redis is not configured."""

    key = models.CharField(max_length=200, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)


class AuditLog(models.Model):
    """Who did what to money or stock from the console or the admin API."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=64, db_index=True)
    target = models.CharField(max_length=120, db_index=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.target}"
