"""Console pages for member outreach: inbox messages, tags, segments (live count), campaigns and reports."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    INPUT_CLASSES,
    SELECT_CLASSES,
    TEXTAREA_CLASSES,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)

from jishi.accounts.models import Role
from jishi.accounts.services import has_role
from jishi.catalog.models import Category, Product
from jishi.community.models import Group as CommunityGroup
from jishi.core.admin_views import yuan
from jishi.core.charts import bar_chart
from jishi.core.console import ConsoleAdmin
from jishi.core.errors import DomainError, error_body
from jishi.loyalty.models import MemberLevel
from jishi.retail.models import Store

from . import campaigns, conf, segments
from .models import Campaign, CampaignStatus, Channel, Delivery, MemberTag, Message, Segment
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


# --- segments: the visual rule builder ------------------------------------------------------------

BUILDER_OPTIONS_LIMIT = 500  # choices listed in the builder per field; products are searched instead
PRODUCT_SEARCH_LIMIT = 20


def _product_ids(rules: Any) -> set[int]:
    """Product ids named anywhere in a rule set, so the builder can show their names."""
    found: set[int] = set()
    if isinstance(rules, dict):
        if rules.get("field") == "bought_product" and isinstance(rules.get("any"), list):
            found.update(i for i in rules["any"] if isinstance(i, int) and not isinstance(i, bool))
        conditions = rules.get("conditions")
        for item in conditions if isinstance(conditions, list) else []:
            found |= _product_ids(item)
    return found


def builder_options(rules: Any) -> dict[str, Any]:
    """What the segment builder offers per field: levels, tags, categories, groups, stores (id, name)."""

    def pairs(queryset: Any) -> list[dict[str, Any]]:
        return [{"id": pk, "name": name} for pk, name in queryset.values_list("pk", "name")[:BUILDER_OPTIONS_LIMIT]]

    products = Product.objects.filter(pk__in=sorted(_product_ids(rules))[: segments.MAX_IDS])
    return {
        "level": pairs(MemberLevel.objects.order_by("threshold", "id")),
        "tags": pairs(MemberTag.objects.order_by("name")),
        "bought_category": pairs(Category.objects.order_by("sort", "id")),
        "group": pairs(CommunityGroup.objects.order_by("id")),
        "stores": [
            {"id": pk, "name": name, "radius_m": radius}
            for pk, name, radius in Store.objects.order_by("id").values_list("pk", "name", "delivery_radius_m")[
                :BUILDER_OPTIONS_LIMIT
            ]
        ],
        "products": {str(pk): name for pk, name in products.values_list("pk", "name")},
    }


class SegmentRulesWidget(forms.Widget):
    """The rules as a visual builder (``notify/segment_builder.js``) over a hidden JSON input."""

    template_name = "admin/notify/widgets/segment_rules.html"

    class Media:
        css = {"all": ["notify/console.css"]}
        js = ["notify/segment_builder.js"]

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        try:
            rules = json.loads(value) if isinstance(value, str) and value else {}
        except ValueError:
            rules = {}
        context["widget"].update(
            {
                "options": builder_options(rules),
                "options_id": f"{context['widget']['attrs'].get('id', name)}_options",
                "count_url": reverse("admin:notify_segment_count"),
                "products_url": reverse("admin:notify_segment_products"),
                "input_class": " ".join(INPUT_CLASSES),
                "select_class": " ".join(SELECT_CLASSES),
                "textarea_class": " ".join(TEXTAREA_CLASSES),
            }
        )
        return context


def rule_path_label(key: str) -> str:
    """``rules.1.0`` → "第 2 项 · 第 1 条" (the builder numbers its rows the same way)."""
    parts = [p for p in key.split(".")[1:] if p.isdigit()]
    if not parts:
        return str(_("条件"))
    labels = [str(_("第 %(n)s 项") % {"n": int(parts[0]) + 1})]
    labels += [str(_("第 %(n)s 条") % {"n": int(p) + 1}) for p in parts[1:]]
    return " · ".join(labels)


def rule_errors(exc: DomainError) -> list[str]:
    return [f"{rule_path_label(key)}：{'；'.join(problems)}" for key, problems in exc.fields.items()] or [
        str(exc.message)
    ]


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["name", "rules"]
        widgets = {"rules": SegmentRulesWidget}
        help_texts = {"rules": _("不添加条件即为全部会员；条件之间可选“满足全部”或“满足任一”。")}

    def clean_rules(self) -> Any:
        rules = self.cleaned_data["rules"]
        try:
            segments.validate(rules)
        except DomainError as exc:
            raise forms.ValidationError(rule_errors(exc)) from exc
        return rules


def _operator(request: HttpRequest) -> Any:
    if not has_role(request.user, Role.OPERATOR):  # type: ignore[arg-type]
        raise PermissionDenied
    return request.user


@admin.register(Segment)
class SegmentAdmin(ConsoleAdmin):
    console_group = "outreach"
    form = SegmentForm
    list_display = ["name", "live_count", "created_at"]

    @admin.display(description=_("当前人数"))
    def live_count(self, obj: Segment) -> int:
        return segments.count(obj.rules) if obj.pk else 0

    def get_urls(self) -> list[URLPattern]:
        count = path("count/", self.admin_site.admin_view(self.count_view), name="notify_segment_count")
        products = path("products/", self.admin_site.admin_view(self.products_view), name="notify_segment_products")
        return [count, products, *super().get_urls()]

    def count_view(self, request: HttpRequest) -> JsonResponse:
        """The builder's live count: POST ``{"rules": ...}`` → ``{"count": n}``; bad rules are a 400."""
        _operator(request)
        if request.method != "POST":
            return JsonResponse(error_body("method_not_allowed", _("请使用 POST")), status=405)
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            return JsonResponse(error_body("invalid_json", _("条件不是有效的 JSON")), status=400)
        rules = payload.get("rules") if isinstance(payload, dict) else None
        try:
            total = segments.count(rules)
        except DomainError as exc:
            return JsonResponse({**exc.as_dict(), "messages": rule_errors(exc)}, status=exc.status)
        return JsonResponse({"count": total})

    def products_view(self, request: HttpRequest) -> JsonResponse:
        """Products by name or id for the builder's "bought product" picker."""
        _operator(request)
        q = request.GET.get("q", "").strip()[:64]
        products = Product.objects.order_by("-id")
        if q:
            products = products.filter(Q(name__icontains=q) | (Q(pk=int(q)) if q.isdigit() else Q()))
        items = [{"id": pk, "name": name} for pk, name in products.values_list("pk", "name")[:PRODUCT_SEARCH_LIMIT]]
        return JsonResponse({"items": items})


# --- campaigns: content and throttle per channel --------------------------------------------------

# (channel, label, title field label or None, body field label)
CHANNEL_FIELDS: tuple[tuple[str, Any, Any, Any], ...] = (
    (Channel.SMS, _("短信"), None, _("短信正文")),
    (Channel.WECHAT, _("微信"), _("微信标题"), _("微信正文")),
    (Channel.EMAIL, _("邮件"), _("邮件主题"), _("邮件正文")),
)
VARIABLES_HELP = _("可用变量 {name}（会员昵称）、{coupon}（赠送的优惠券）")
SMS_SEGMENT_CHARS = 70


def _text(label: Any, max_length: int, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label, required=False, max_length=max_length, help_text=help_text, widget=UnfoldAdminTextInputWidget
    )


def _body(label: Any, help_text: Any, rows: int = 3) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=1000,
        help_text=help_text,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": rows, "data-channel-body": "1"}),
    )


def _rate(label: Any, channel: str) -> forms.IntegerField:
    default = conf.notify_setting("CHANNEL_RATE").get(channel, 0)
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=1,
        max_value=campaigns.MAX_THROTTLE,
        help_text=_("每秒最多发送条数，留空按默认 %(rate)s 条/秒") % {"rate": default},
        widget=UnfoldAdminTextInputWidget(
            attrs={"inputmode": "numeric", "suffix": _("条/秒"), "placeholder": default, "class": "notify-rate"}
        ),
    )


class CampaignForm(forms.ModelForm):
    sms_body = _body(_("短信正文"), _("每条 %(n)s 字（含签名），超出按多条计费") % {"n": SMS_SEGMENT_CHARS})
    wechat_title = _text(_("微信标题"), 100, _("留空用站内信标题"))
    wechat_body = _body(_("微信正文"), "")
    email_title = _text(_("邮件主题"), 100, _("留空用站内信标题"))
    email_body = _body(_("邮件正文"), "", rows=5)
    throttle_sms = _rate(_("短信限速"), Channel.SMS)
    throttle_wechat = _rate(_("微信限速"), Channel.WECHAT)
    throttle_email = _rate(_("邮件限速"), Channel.EMAIL)

    class Meta:
        model = Campaign
        fields = [
            "name",
            "segment",
            "title",
            "body",
            "link",
            "b_percent",
            "b_title",
            "b_body",
            "coupon_template",
            "gift_points",
            "attribution_days",
            "scheduled_at",
        ]
        widgets = {
            "body": UnfoldAdminTextareaWidget(attrs={"rows": 4}),
            "b_body": UnfoldAdminTextareaWidget(attrs={"rows": 3}),
        }
        # the variables are named once, in the inbox section's description, and offered as chips
        help_texts = {"title": "", "body": ""}

    class Media:
        css = {"all": ["notify/console.css"]}
        js = ["notify/campaign_form.js"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        content = self.instance.channel_content or {}
        throttle = self.instance.throttle or {}
        for channel, _label, title_label, _body_label in CHANNEL_FIELDS:
            text = content.get(channel) or {}
            if f"{channel}_body" in self.fields:
                self.initial.setdefault(f"{channel}_body", text.get("body", ""))
            if title_label is not None and f"{channel}_title" in self.fields:
                self.initial.setdefault(f"{channel}_title", text.get("title", ""))
            if f"throttle_{channel}" in self.fields:
                self.initial.setdefault(f"throttle_{channel}", throttle.get(channel))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        content: dict[str, dict[str, str]] = {}
        throttle: dict[str, int] = {}
        for channel, _label, title_label, _body_label in CHANNEL_FIELDS:
            body = (cleaned.get(f"{channel}_body") or "").strip()
            title = (cleaned.get(f"{channel}_title") or "").strip() if title_label is not None else ""
            if body:
                content[channel] = {"title": title, "body": body} if title else {"body": body}
            elif title:
                self.add_error(f"{channel}_body", _("填写了标题，请同时填写正文（有正文才会发送此渠道）"))
            rate = cleaned.get(f"throttle_{channel}")
            if rate is not None:
                throttle[channel] = rate
        cleaned["channel_content"] = content
        cleaned["throttle"] = throttle
        if not self.errors:
            self._check_with_service(cleaned)
        return cleaned

    def _check_with_service(self, cleaned: dict[str, Any]) -> None:
        """The service's own rules (A/B needs variant B's text, the link is a site path), shown on the form."""
        data = {k: v for k, v in cleaned.items() if k in campaigns.CAMPAIGN_FIELDS}
        try:
            campaigns._clean(data)
        except DomainError as exc:
            for key, problems in (exc.fields or {"": [str(exc.message)]}).items():
                self.add_error(key if key in self.fields else None, problems)


@admin.register(Campaign)
class CampaignAdmin(ConsoleAdmin):
    console_group = "outreach"
    form = CampaignForm
    list_display = ["name", "segment", "status", "scheduled_at", "targeted", "report_link"]
    list_filter = ["status"]
    search_fields = ["name"]
    actions = ["schedule_now", "pause_selected", "resume_selected", "cancel_selected"]
    list_select_related = ["segment"]

    def _locked(self, obj: Campaign | None) -> bool:
        return obj is not None and obj.status not in campaigns.EDITABLE

    def get_fieldsets(self, request: HttpRequest, obj: Campaign | None = None) -> Any:
        status = [("status", "targeted"), ("started_at", "finished_at")] if obj else []
        head: list[Any] = [
            (None, {"fields": ["name", "segment", *status]}),
            (_("站内信（每位会员必达）"), {"fields": ["title", "body", "link"], "description": VARIABLES_HELP}),
        ]
        if self._locked(obj):
            shown = ["channel_content_display", "throttle_display"]
            channels: list[Any] = [(_("短信 / 微信 / 邮件"), {"fields": shown})]
        else:
            channels = [
                (
                    label,
                    {
                        "fields": [f"{channel}_title", f"{channel}_body", f"throttle_{channel}"]
                        if title
                        else [f"{channel}_body", f"throttle_{channel}"],
                        "description": _("填写了正文才发送%(channel)s；退订了%(channel)s营销消息的会员不发。")
                        % {"channel": label},
                    },
                )
                for channel, label, title, _body_label in CHANNEL_FIELDS
            ]
        tail = [
            (_("A/B 测试"), {"fields": ["b_percent", "b_title", "b_body"]}),
            (_("赠送与归因"), {"fields": ["coupon_template", "gift_points", "attribution_days"]}),
            (_("发送时间"), {"fields": ["scheduled_at"]}),
        ]
        return [*head, *channels, *tail]

    def get_readonly_fields(self, request: HttpRequest, obj: Campaign | None = None) -> list[str]:
        base = ["status", "targeted", "started_at", "finished_at"]
        if self._locked(obj):
            return [*base, *CampaignForm.Meta.fields, "channel_content_display", "throttle_display"]
        return base

    @admin.display(description=_("渠道内容"))
    def channel_content_display(self, obj: Campaign) -> str:
        rows = []
        for channel, label, *_rest in CHANNEL_FIELDS:
            text = (obj.channel_content or {}).get(channel)
            if text:
                title = format_html("<strong>{}</strong><br>", text["title"]) if text.get("title") else ""
                row = '<div class="notify-readonly-channel"><span>{}</span><p>{}{}</p></div>'
                rows.append(format_html(row, label, title, text["body"]))
        return format_html_join("", "{}", ((row,) for row in rows)) if rows else str(_("只发站内信"))

    @admin.display(description=_("限速"))
    def throttle_display(self, obj: Campaign) -> str:
        rates = conf.notify_setting("CHANNEL_RATE")
        parts = []
        for channel, label, *_rest in CHANNEL_FIELDS:
            rate = (obj.throttle or {}).get(channel)
            parts.append(f"{label} {rate or rates.get(channel, 0)} {_('条/秒')}{'' if rate else _('（默认）')}")
        return "；".join(parts)

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        actor = _operator(request)
        if change and self._locked(Campaign.objects.filter(pk=obj.pk).first()):
            messages.error(request, _("活动已开始，不能修改内容"))
            return
        data = {k: v for k, v in form.cleaned_data.items() if k in campaigns.CAMPAIGN_FIELDS}
        data["segment_id"] = form.cleaned_data["segment"].pk
        template = form.cleaned_data.get("coupon_template")
        data["coupon_template_id"] = template.pk if template else None
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
