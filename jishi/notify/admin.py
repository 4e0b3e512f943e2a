"""Console pages for member outreach: inbox messages, tags, segments (live count), campaigns and reports."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import Role
from jishi.accounts.services import has_role
from jishi.core.admin_views import yuan
from jishi.core.charts import bar_chart
from jishi.core.console import ConsoleAdmin
from jishi.core.errors import DomainError

from . import campaigns, segments
from .models import Campaign, CampaignStatus, Delivery, MemberTag, Message, Segment
from .report import campaign_report


@admin.register(Message)
class MessageAdmin(ConsoleAdmin):
    console_group = "outreach"
    list_display = ["title", "member", "category", "is_read", "created_at"]
    list_filter = ["category", "created_at"]
    search_fields = ["title", "user__phone", "user__nickname"]
    readonly_fields = [
        "user",
        "category",
        "title",
        "body",
        "link",
        "key",
        "campaign",
        "variant",
        "read_at",
        "created_at",
    ]
    list_select_related = ["user"]

    @admin.display(description=_("会员"), ordering="user__phone")
    def member(self, obj: Message) -> str:
        return str(obj.user)

    @admin.display(description=_("已读"), boolean=True)
    def is_read(self, obj: Message) -> bool:
        return obj.read

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(ConsoleAdmin):
    console_group = "outreach"
    list_display = ["message", "member", "channel", "status", "reason", "attempts", "sent_at", "delivered_at"]
    list_filter = ["channel", "status", "campaign"]
    search_fields = ["user__phone", "vendor_id"]
    list_select_related = ["user", "message"]
    readonly_fields = [f.name for f in Delivery._meta.fields]

    @admin.display(description=_("会员"))
    def member(self, obj: Delivery) -> str:
        return str(obj.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(MemberTag)
class MemberTagAdmin(ConsoleAdmin):
    console_group = "outreach"
    list_display = ["name"]
    search_fields = ["name"]
    autocomplete_fields = ["members"]


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["name", "rules"]
        help_texts = {
            "rules": _(
                '例如 {"op": "and", "conditions": [{"field": "lifetime_spend", "min": 10000}, '
                '{"field": "last_purchase_days", "within": 30}]}'
            )
        }

    def clean_rules(self) -> Any:
        rules = self.cleaned_data["rules"]
        try:
            segments.validate(rules)
        except DomainError as exc:
            raise forms.ValidationError("; ".join(f"{k}: {', '.join(v)}" for k, v in exc.fields.items())) from exc
        return rules


@admin.register(Segment)
class SegmentAdmin(ConsoleAdmin):
    console_group = "outreach"
    form = SegmentForm
    list_display = ["name", "live_count", "created_at"]
    readonly_fields = ["live_count"]

    @admin.display(description=_("当前人数"))
    def live_count(self, obj: Segment) -> int:
        return segments.count(obj.rules) if obj.pk else 0


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = [
            "name",
            "segment",
            "title",
            "body",
            "link",
            "channel_content",
            "throttle",
            "b_percent",
            "b_title",
            "b_body",
            "coupon_template",
            "gift_points",
            "attribution_days",
            "scheduled_at",
        ]
        help_texts = {
            "channel_content": _('例如 {"sms": {"body": "{name}，新品上架"}}；留空只发站内信'),
            "throttle": _('例如 {"sms": 50}'),
        }


def _operator(request: HttpRequest) -> Any:
    if not has_role(request.user, Role.OPERATOR):  # type: ignore[arg-type]
        raise PermissionDenied
    return request.user


@admin.register(Campaign)
class CampaignAdmin(ConsoleAdmin):
    console_group = "outreach"
    form = CampaignForm
    list_display = ["name", "segment", "status", "scheduled_at", "targeted", "report_link"]
    list_filter = ["status"]
    search_fields = ["name"]
    actions = ["schedule_now", "pause_selected", "resume_selected", "cancel_selected"]
    list_select_related = ["segment"]

    def get_readonly_fields(self, request: HttpRequest, obj: Campaign | None = None) -> list[str]:
        base = ["status", "targeted", "started_at", "finished_at"]
        if obj and obj.status not in campaigns.EDITABLE:
            return base + list(CampaignForm.Meta.fields)
        return base

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("segment", "coupon_template", "scheduled_at")}
        data["segment_id"] = form.cleaned_data["segment"].pk
        template = form.cleaned_data.get("coupon_template")
        data["coupon_template_id"] = template.pk if template else None
        data["channel_content"] = data.get("channel_content") or {}
        data["throttle"] = data.get("throttle") or {}
        actor = _operator(request)
        try:
            saved = campaigns.update_campaign(actor, obj.pk, data) if change else campaigns.create_campaign(actor, data)
            if form.cleaned_data.get("scheduled_at") and saved.status == CampaignStatus.DRAFT:
                saved = campaigns.schedule(actor, saved.pk, form.cleaned_data["scheduled_at"])
        except DomainError as exc:
            messages.error(request, f"{exc.message} {exc.fields or ''}")
            return
        obj.pk = saved.pk
        obj.refresh_from_db()

    @admin.display(description=_("报告"))
    def report_link(self, obj: Campaign) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:notify_campaign_report", args=[obj.pk]), _("查看报告"))

    def _each(self, request: HttpRequest, queryset: QuerySet[Campaign], move: Any, done: Any) -> None:
        actor = _operator(request)
        moved = 0
        for campaign in queryset:
            try:
                move(actor, campaign.pk)
                moved += 1
            except DomainError as exc:
                messages.warning(request, f"{campaign.name}: {exc.message}")
        if moved:
            messages.success(request, f"{done}: {moved}")

    @admin.action(description=_("立即排期发送"))
    def schedule_now(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._each(request, queryset, campaigns.schedule, _("已排期"))

    @admin.action(description=_("暂停"))
    def pause_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._each(request, queryset, campaigns.pause, _("已暂停"))

    @admin.action(description=_("继续"))
    def resume_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._each(request, queryset, campaigns.resume, _("已继续"))

    @admin.action(description=_("取消"))
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._each(request, queryset, campaigns.cancel, _("已取消"))

    def get_urls(self) -> list[URLPattern]:
        report = path(
            "<int:campaign_id>/report/", self.admin_site.admin_view(self.report_view), name="notify_campaign_report"
        )
        return [report, *super().get_urls()]

    def report_view(self, request: HttpRequest, campaign_id: int) -> HttpResponse:
        _operator(request)
        campaign = get_object_or_404(Campaign.objects.select_related("segment"), pk=campaign_id)
        report = campaign_report(campaign)
        inbox = report["channels"][0]
        funnel = [
            (str(_("目标人数")), report["targeted"]),
            (str(_("站内信送达")), inbox["delivered"]),
            *[(f"{c['label']} {_('已送达')}", c["delivered"]) for c in report["channels"][1:]],
            (str(_("已读")), report["read"]),
            (str(_("点击")), report["clicked"]),
            (str(_("下单")), report["orders"]),
        ]
        failures = [(f"{f['channel']} · {f['reason']}", f["count"]) for f in report["failures"][:10]]
        context = {
            **self.admin_site.each_context(request),
            "title": _("活动报告"),
            "campaign": campaign,
            "report": report,
            "reach_percent": f"{report['inbox_reach'] * 100:.1f}",
            "gmv": yuan(report["gmv"]),
            "variants": [{**v, "gmv": yuan(v["gmv"])} for v in report["by_variant"]] if campaign.b_percent else [],
            "funnel_chart": bar_chart(funnel, value_label=str(_("触达漏斗"))),
            "failure_chart": bar_chart(failures, value_label=str(_("失败原因"))),
        }
        return TemplateResponse(request, "admin/notify/campaign_report.html", context)
