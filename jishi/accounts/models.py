"""People: users identified by phone, roles, hashed API tokens, SMS codes, addresses."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    BUYER = "buyer", _("买家")
    PROMOTER = "promoter", _("分销员")
    CREATOR = "creator", _("达人")
    LEADER = "leader", _("团长")
    CLERK = "clerk", _("店员")
    OPERATOR = "operator", _("运营")
    ADMIN = "admin", _("管理员")


class User(AbstractUser):
    """Buyers log in by phone; operators by username. Buyers' username is their phone."""

    phone = models.CharField(_("手机号"), max_length=20, unique=True, null=True, blank=True)
    nickname = models.CharField(_("昵称"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.nickname or self.phone or self.username


class UserRole(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=16, choices=Role.choices)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="user_role_once")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.role}"


class AuthToken(models.Model):
    """A bearer token; only its SHA-256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("令牌")
        verbose_name_plural = _("令牌")


class SmsCode(models.Model):
    phone = models.CharField(max_length=20, db_index=True)
    code_hash = models.CharField(max_length=64)
    purpose = models.CharField(max_length=16, default="login")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)


class Address(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses")
    contact = models.CharField(_("收货人"), max_length=32)
    phone = models.CharField(_("电话"), max_length=20)
    province = models.CharField(_("省"), max_length=32)
    city = models.CharField(_("市"), max_length=32)
    district = models.CharField(_("区"), max_length=32)
    detail = models.CharField(_("详细地址"), max_length=200)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("地址")
        verbose_name_plural = _("地址")
        ordering = ["-is_default", "-id"]

    def __str__(self) -> str:
        return f"{self.province}{self.city}{self.district}{self.detail}"

    @property
    def full_text(self) -> str:
        return f"{self.province}{self.city}{self.district}{self.detail}"
