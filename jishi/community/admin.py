"""Console for community: groups, members, moderation, red packets, digests sent, group prices and
coupons, and each group's report (shared-product sales, the week's fans and their reward in one action)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import Role as AccountRole
from jishi.accounts.services import has_role
from jishi.core.admin_views import yuan_column
from jishi.core.charts import bar_chart
from jishi.core.console import ConsoleAdmin
from jishi.core.errors import DomainError
from jishi.core.money import format_yuan

from . import activity, fans, groups, offers, sales
from .models import DigestRun, FanReward, Group, GroupCoupon, GroupPrice, GroupRedPacket, Membership, Reply, Topic


class ReadOnlyAdmin(ConsoleAdmin):
    console_group = "community"
    """Rows written by services only: the console reads them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Group)
class GroupAdmin(ConsoleAdmin):
    console_group = "community"
    list_display = (
        "name",
        "theme",
        "join_mode",
        "member_count",
        "capacity",
        "owner",
        "is_active",
        "created_at",
        "report_link",
    )
    list_filter = ("join_mode", "is_active")
    search_fields = ("name", "theme")
    readonly_fields = ("member_count", "rules_version", "created_at")
    raw_id_fields = ("owner", "required_product")

    @admin.display(description=_("报表"))
    def report_link(self, obj: Group) -> str:
        url = reverse("admin:community_group_report", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("成交与排行"))

    def get_urls(self) -> list[Any]:
        report = path(
            "<int:group_id>/report/",
            self.admin_site.admin_view(group_report),
            name="community_group_report",
        )
        return [report, *super().get_urls()]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("user", "group", "role", "status", "invited_by", "rules_acked_at", "muted_until", "joined_at")
    list_filter = ("status", "role", "group")
    search_fields = ("user__phone", "user__nickname", "group__name")
    list_select_related = ("user", "group", "invited_by")


def _moderate(approve: bool) -> Any:
    def action(model_admin: ConsoleAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        for row in queryset:
            if isinstance(row, Topic):
                activity.moderate(request.user, topic_id=row.pk, approve=approve)  # type: ignore[arg-type]
            else:
                activity.moderate(request.user, reply_id=row.pk, approve=approve)  # type: ignore[arg-type]

    action.short_description = _("通过") if approve else _("驳回")  # type: ignore[attr-defined]
    action.__name__ = "approve" if approve else "reject"
    return action


@admin.register(Topic)
class TopicAdmin(ReadOnlyAdmin):
    list_display = ("title", "group", "kind", "author", "status", "pinned", "reply_count", "like_count", "created_at")
    list_filter = ("status", "kind", "group")
    search_fields = ("title",)
    list_select_related = ("group", "author")
    actions = [_moderate(True), _moderate(False)]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None  # the changelist's actions; no editing of members' words


@admin.register(Reply)
class ReplyAdmin(ReadOnlyAdmin):
    list_display = ("body", "topic", "author", "status", "created_at")
    list_filter = ("status",)
    list_select_related = ("topic", "author")
    actions = [_moderate(True), _moderate(False)]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None


@admin.register(GroupRedPacket)
class GroupRedPacketAdmin(ReadOnlyAdmin):
    amount_yuan = yuan_column("amount", _("总金额"), "amount")
    claimed_yuan = yuan_column("claimed_amount", _("已领金额"))
    refunded_yuan = yuan_column("refunded_amount", _("退回金额"))
    list_display = (
        "group",
        "funder",
        "source",
        "split",
        "amount_yuan",
        "shares",
        "claimed_count",
        "claimed_yuan",
        "refunded_yuan",
        "status",
        "created_at",
    )
    list_filter = ("status", "source", "split")
    list_select_related = ("group", "funder")


@admin.register(DigestRun)
class DigestRunAdmin(ReadOnlyAdmin):
    list_display = ("group", "day", "title", "sent_count", "skipped_active", "skipped_opted_out", "created_at")
    list_filter = ("group",)
    date_hierarchy = "day"


@admin.register(GroupPrice)
class GroupPriceAdmin(ReadOnlyAdmin):
    price_yuan = yuan_column("price", _("群专享价"), "price")
    list_display = ("group", "sku", "price_yuan", "is_active", "created_at")
    list_filter = ("group", "is_active")
    list_select_related = ("group", "sku__product")


class GroupCouponForm(forms.ModelForm):
    class Meta:
        model = GroupCoupon
        fields = ["group", "template"]
        help_texts = {
            "template": _(
                "选一张还没有人领取的券（可先在 营销 → 优惠券模板 新建）；设为群专享后只有本群成员能看到、领取和使用。"
            )
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        group, template = data.get("group"), data.get("template")
        if group is not None and template is not None:
            try:
                offers.check_coupon(group.pk, template.pk)
            except DomainError as exc:
                for message in (exc.fields or {}).get("template_id") or [exc.message]:
                    self.add_error("template", str(message))
        return data


@admin.register(GroupCoupon)
class GroupCouponAdmin(ReadOnlyAdmin):
    """Operators make a coupon template a group's own here (through ``offers.set_coupon``)."""

    form = GroupCouponForm
    list_display = ("group", "template", "rule", "issued", "used", "created_at")
    list_filter = ("group",)
    list_select_related = ("group", "template")
    autocomplete_fields = ("group",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return has_role(request.user, AccountRole.OPERATOR)  # type: ignore[arg-type]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        if "template" in form.base_fields:
            from jishi.marketing.models import CouponTemplate

            open_to_all = CouponTemplate.objects.filter(issued=0).exclude(
                pk__in=GroupCoupon.objects.values("template_id")
            )
            form.base_fields["template"].queryset = open_to_all.order_by("-id")
        return form

    def save_model(self, request: HttpRequest, obj: GroupCoupon, form: Any, change: bool) -> None:
        row = offers.set_coupon(request.user, form.cleaned_data["group"].pk, form.cleaned_data["template"].pk)  # type: ignore[arg-type]
        obj.pk = row.pk
        obj.refresh_from_db()

    @admin.display(description=_("规则"))
    def rule(self, obj: GroupCoupon) -> str:
        from jishi.marketing import coupons

        return coupons.describe(obj.template)

    @admin.display(description=_("已领取"))
    def issued(self, obj: GroupCoupon) -> int:
        return obj.template.issued

    @admin.display(description=_("已使用"))
    def used(self, obj: GroupCoupon) -> int:
        return obj.template.used


@admin.register(FanReward)
class FanRewardAdmin(ReadOnlyAdmin):
    list_display = ("group", "week", "rank", "user", "score", "points", "coupon_template_id", "created_at")
    list_filter = ("group", "week")
    list_select_related = ("group", "user")


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value or default)
    except ValueError:
        return -1  # refused by the service's own bounds


def _reward(request: HttpRequest, group_id: int) -> HttpResponseRedirect:
    """The report's one-action reward of the week's top N (points and/or a coupon), through ``fans``."""
    coupon = request.POST.get("coupon_template_id") or None
    try:
        rows = fans.reward_top(
            request.user,  # type: ignore[arg-type]
            group_id,
            top=_int(request.POST.get("top"), 3),
            points=_int(request.POST.get("points")),
            coupon_template_id=_int(coupon) if coupon else None,
        )
    except DomainError as exc:
        details = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in (exc.fields or {}).items())
        messages.error(request, f"{exc.message} {details}".strip())
    else:
        messages.success(request, gettext("已奖励 %(n)d 位核心粉丝（本周已奖励过的不重复）") % {"n": len(rows)})
    return HttpResponseRedirect(reverse("admin:community_group_report", args=[group_id]))


def group_report(request: HttpRequest, group_id: int) -> HttpResponse:
    """A group's sales from shared products and this week's core fans, each with a chart; POST rewards the top N."""
    from jishi.marketing.models import CouponTemplate

    group = groups.get_group(group_id, active_only=False)
    if request.method == "POST":
        return _reward(request, group.pk)
    rows = sales.group_sales(group.pk)
    for row in rows:
        row["amount_yuan"] = format_yuan(row["amount"])
    ranking = fans.weekly_ranking(group.pk, limit=10)
    context = {
        **admin.site.each_context(request),
        "title": _("社群报表"),
        "group": group,
        "sales": rows,
        "sales_chart": bar_chart(
            [(r["name"][:12], r["amount"]) for r in rows], value_label=str(_("成交额")), format_value=format_yuan
        ),
        "ranking": ranking,
        "ranking_chart": bar_chart([(f.nickname[:12], f.score) for f in ranking], value_label=str(_("活跃分"))),
        "templates": CouponTemplate.objects.filter(is_active=True).order_by("-id")[:50],
        "rewarded": FanReward.objects.filter(group=group, week=fans.week_of(timezone.localdate()))
        .select_related("user")
        .order_by("rank"),
    }
    return TemplateResponse(request, "admin/community/report.html", context)
