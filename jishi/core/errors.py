"""Domain errors: every one becomes a 4xx ``{"error": {"code", "message", "fields"}}``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status = 400
    code = "bad_request"
    default_message: Any = _("请求无效")

    def __init__(
        self,
        message: Any = None,
        *,
        code: str | None = None,
        status: int | None = None,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        if status:
            self.status = status
        self.fields = fields or {}
        super().__init__(str(self.message))

    def as_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": str(self.message), "fields": self.fields}}


class InvalidInput(DomainError):
    status = 422
    code = "invalid"
    default_message = _("输入有误")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _("不存在")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_message = _("没有权限")


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    default_message = _("请先登录")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _("状态冲突")


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    default_message = _("操作太频繁，请稍后再试")


def error_body(code: str, message: Any, fields: dict[str, list[str]] | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


class RemoteUnavailable(Exception):
    """A remote service (payment provider, SMS vendor, affiliate network) could not be reached or
    gave an answer that cannot be trusted. Not the caller's fault: the intent stays recorded and a
    job retries it. The API answers 502."""
