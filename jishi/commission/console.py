"""Console base for the people commission pays (promoters, leaders): review actions run through
the owning app's service one row at a time, and a ranking page by commission earned."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.core.charts import bar_chart
from jishi.core.console import ConsoleAdmin
from jishi.core.errors import DomainError
from jishi.core.money import format_yuan

from . import services

RANKING_DAYS = (7, 30, 90, 365)


def review_action(action: str, description: Any) -> Callable[..., None]:
    """An admin action that reviews each selected row with ``action`` (see ``BeneficiaryAdmin``)."""

    @admin.action(description=description)
    def run(model_admin: BeneficiaryAdmin, request: HttpRequest, queryset: Any) -> None:
        model_admin.review_selected(request, queryset, action)

    run.__name__ = action
    return run


class BeneficiaryAdmin(ConsoleAdmin):
    """Subclasses say which commission they rank (``commission_source``), how the ranking page is
    titled and reached, and how one row is reviewed (``review_one``, ``review_subject``)."""

    commission_source: str = ""
    ranking_path = "leaderboard/"
    ranking_url_name = ""
    ranking_title: Any = _("排行榜")
    ranking_who: Any = _("姓名")
    ranking_earned: Any = _("佣金")
    review_done: Any = _("已处理 %(n)d 人")

    def review_one(self, request: HttpRequest, obj: Any, action: str) -> None:
        raise NotImplementedError

    def review_subject(self, obj: Any) -> str:
        return str(obj)

    def review_selected(self, request: HttpRequest, queryset: Any, action: str) -> None:
        done = 0
        for obj in queryset:
            try:
                self.review_one(request, obj, action)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{self.review_subject(obj)}: {exc.message}", messages.WARNING)
        if done:
            self.message_user(request, self.review_done % {"n": done}, messages.SUCCESS)

    def get_urls(self) -> list[Any]:
        ranking = path(self.ranking_path, self.admin_site.admin_view(self.ranking_view), name=self.ranking_url_name)
        return [ranking, *super().get_urls()]

    def ranking_view(self, request: HttpRequest) -> HttpResponse:
        try:
            days = max(0, min(int(request.GET.get("days", "30")), 3650))
        except ValueError:
            days = 30
        since = timezone.now() - timedelta(days=days) if days else None
        rows = services.leaderboard(self.commission_source, since, 20)
        for row in rows:
            row["earned_yuan"], row["sales_yuan"] = format_yuan(row["earned"]), format_yuan(row["sales"])
        chart = bar_chart(
            [(r["nickname"] or r["phone"], r["earned"]) for r in rows],
            value_label=str(self.ranking_earned),
            format_value=format_yuan,
        )
        context = {
            **self.admin_site.each_context(request),
            "rows": rows,
            "chart": chart,
            "days": days,
            "choices": RANKING_DAYS,
            "title": self.ranking_title,
            "who": self.ranking_who,
        }
        return TemplateResponse(request, "admin/commission/leaderboard.html", context)
