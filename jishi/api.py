"""The REST API under /api/v1: routers of every app and one error format."""

from __future__ import annotations

import logging
from typing import Any

from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from jishi.accounts.api import admin_router as accounts_admin_router
from jishi.accounts.api import me_router as accounts_me_router
from jishi.accounts.api import router as accounts_router
from jishi.catalog.api import admin_router as catalog_admin_router
from jishi.catalog.api import router as catalog_router
from jishi.community.api import admin_router as community_admin_router
from jishi.community.api import router as community_router
from jishi.content.api import admin_router as content_admin_router
from jishi.content.api import router as content_router
from jishi.core.errors import DomainError, error_body
from jishi.distribution.api import admin_router as distribution_admin_router
from jishi.distribution.api import router as distribution_router
from jishi.groupbuy.api import admin_router as groupbuy_admin_router
from jishi.groupbuy.api import router as groupbuy_router
from jishi.inventory.api import admin_router as inventory_admin_router
from jishi.loyalty.api import admin_router as loyalty_admin_router
from jishi.loyalty.api import router as loyalty_router
from jishi.marketing.api import admin_router as marketing_admin_router
from jishi.marketing.api import router as marketing_router
from jishi.notify.api import admin_router as notify_admin_router
from jishi.notify.api import router as notify_router
from jishi.orders.api import admin_router as orders_admin_router
from jishi.orders.api import router as orders_router
from jishi.payments.api import admin_router as payments_admin_router
from jishi.payments.api import router as payments_router
from jishi.payments.providers.base import ProviderError
from jishi.rebate.api import admin_router as rebate_admin_router
from jishi.rebate.api import public_router as rebate_public_router
from jishi.rebate.api import router as rebate_router
from jishi.retail.api import admin_router as retail_admin_router
from jishi.retail.api import router as retail_router
from jishi.retail.api import staff_router as retail_staff_router

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Jishi API",
    version="1",
    description="集市 Jishi social-commerce REST API. Amounts are integers in fen.",
    urls_namespace="api-v1",
)


def _fields_from_validation(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for err in errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "query", "path", "payload")]
        name = ".".join(loc) or "__all__"
        fields.setdefault(name, []).append(str(err.get("msg", "invalid")))
    return fields


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(
        request,
        error_body("invalid", _("输入有误"), _fields_from_validation(exc.errors)),
        status=422,
    )


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(DataError)
def on_data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
    # The database refused a value (out of its range, say a time zone offset beyond ±15:59):
    # the statement and its transaction rolled back, and the caller sent something unusable.
    return api.create_response(request, error_body("invalid", _("输入的数据超出允许的范围")), status=422)


@api.exception_handler(ProviderError)
def on_provider_error(request: HttpRequest, exc: ProviderError) -> HttpResponse:
    # A provider refused or did not answer: what it did is unknown, so the caller checks the
    # payment or refund again later (both are idempotent on their numbers at the provider).
    logger.warning("payment provider error on %s %s: %s", request.method, request.path, exc)
    return api.create_response(
        request, error_body("provider_unavailable", _("支付服务暂时无法连接，请稍后再试")), status=502
    )


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, error_body("unauthorized", _("请先登录")), status=401)


@api.exception_handler(AuthorizationError)
def on_authz_error(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return api.create_response(request, error_body("forbidden", _("没有权限")), status=403)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, error_body("not_found", _("不存在")), status=404)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        429: "rate_limited",
    }.get(exc.status_code, "error")
    return api.create_response(request, error_body(code, str(exc)), status=exc.status_code)


api.add_router("/auth", accounts_router, tags=["auth"])
api.add_router("/", accounts_me_router, tags=["me"])
api.add_router("/", catalog_router, tags=["catalog"])
api.add_router("/admin", accounts_admin_router, tags=["admin"])
api.add_router("/admin", catalog_admin_router, tags=["admin"])
api.add_router("/admin", inventory_admin_router, tags=["admin"])
api.add_router("/", orders_router, tags=["orders"])
api.add_router("/", payments_router, tags=["payments"])
api.add_router("/admin", orders_admin_router, tags=["admin"])
api.add_router("/admin", payments_admin_router, tags=["admin"])
api.add_router("/", marketing_router, tags=["marketing"])
api.add_router("/admin", marketing_admin_router, tags=["admin"])
api.add_router("/", loyalty_router, tags=["loyalty"])
api.add_router("/admin", loyalty_admin_router, tags=["admin"])
api.add_router("/", content_router, tags=["content"])
api.add_router("/admin", content_admin_router, tags=["admin"])
api.add_router("/", distribution_router, tags=["distribution"])
api.add_router("/admin", distribution_admin_router, tags=["admin"])
api.add_router("/", groupbuy_router, tags=["groupbuy"])
api.add_router("/admin", groupbuy_admin_router, tags=["admin"])
api.add_router("/", notify_router, tags=["notify"])
api.add_router("/admin", notify_admin_router, tags=["admin"])
api.add_router("/", community_router, tags=["community"])
api.add_router("/admin", community_admin_router, tags=["admin"])
api.add_router("/", retail_router, tags=["retail"])
api.add_router("/", retail_staff_router, tags=["retail-staff"])
api.add_router("/admin", retail_admin_router, tags=["admin"])
api.add_router("/", rebate_public_router, tags=["rebate"])
api.add_router("/", rebate_router, tags=["rebate"])
api.add_router("/admin", rebate_admin_router, tags=["admin"])
