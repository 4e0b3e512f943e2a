"""Ops console for campaigns: every campaign with its results; an action to issue coupons to a segment;
the home page banners."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import User
from jishi.core.console import ConsoleAdmin, ConsoleTabularInline
from jishi.core.errors import DomainError

from . import banners, coupons
from .models import (
    Banner,
    Bargain,
    BargainCampaign,
    BargainHelp,
    Coupon,
    CouponTemplate,
    FlashItem,
    FlashSession,
    Group,
    GroupBuyCampaign,
    GroupMember,
)


class IssueForm(forms.Form):
    phones = forms.CharField(label=_("手机号（每行一个）"), widget=forms.Textarea(attrs={"rows": 8}), required=False)
    all_buyers = forms.BooleanField(label=_("发给所有买家"), required=False)


@admin.register(CouponTemplate)
class CouponTemplateAdmin(ConsoleAdmin):
    console_group = "marketing"
    console_icon = "confirmation_number"
    console_order = 10
    money_fields = ("amount", "max_discount", "min_spend")
    percent_fields = ("percent_off_bp",)

    list_display = (
        "name",
        "kind",
        "rule",
        "scope",
        "total_quantity",
        "issued",
        "used",
        "use_rate",
        "per_person_limit",
        "new_member_only",
        "is_active",
    )
    list_filter = ("kind", "scope", "is_active", "new_member_only")
    search_fields = ("name",)
    readonly_fields = ("issued", "used", "created_at")
    actions = ["issue_to_segment"]

    @admin.display(description=_("规则"))
    def rule(self, obj: CouponTemplate) -> str:
        return coupons.describe(obj)

    @admin.display(description=_("核销率"))
    def use_rate(self, obj: CouponTemplate) -> str:
        return f"{obj.used * 100 // obj.issued}%" if obj.issued else "-"

    @admin.action(description=_("发放给指定买家"))
    def issue_to_segment(self, request: HttpRequest, queryset: QuerySet[CouponTemplate]) -> HttpResponse | None:
        if "apply" in request.POST:
            form = IssueForm(request.POST)
            if form.is_valid():
                if form.cleaned_data["all_buyers"]:
                    users = User.objects.filter(phone__isnull=False)
                else:
                    phones = [p.strip() for p in form.cleaned_data["phones"].splitlines() if p.strip()]
                    users = User.objects.filter(phone__in=phones)
                ids = list(users.values_list("pk", flat=True))
                for template in queryset:
                    result = coupons.issue_to_segment(request.user, template.pk, ids)
                    self.message_user(
                        request,
                        _("%(name)s：发放 %(issued)s 张，跳过 %(skipped)s 人") % {"name": template.name, **result},
                        messages.SUCCESS,
                    )
                return None
        else:
            form = IssueForm()
        return render(
            request,
            "admin/marketing/issue_coupons.html",
            {**self.admin_site.each_context(request), "form": form, "templates": queryset, "title": _("发放优惠券")},
        )


@admin.register(Coupon)
class CouponAdmin(ConsoleAdmin):
    console_group = "marketing"
    console_icon = "local_activity"
    console_order = 11

    list_display = ("id", "template", "user", "status", "source", "valid_until", "order_id", "claimed_at")
    list_filter = ("status", "source")
    search_fields = ("user__phone", "template__name")
    raw_id_fields = ("user", "template")
    list_select_related = ("template", "user")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class FlashItemInline(ConsoleTabularInline):
    money_fields = ("flash_price",)

    model = FlashItem
    extra = 0
    raw_id_fields = ("sku",)
    fields = (
        "sku",
        "flash_price",
        "total_stock",
        "stock_left",
        "per_person_limit",
        "sold_out_at",
        "commission",
        "points",
    )
    readonly_fields = ("stock_left", "sold_out_at")


@admin.register(FlashSession)
class FlashSessionAdmin(ConsoleAdmin):
    console_group = "marketing"
    console_icon = "bolt"
    console_order = 20

    list_display = ("name", "starts_at", "ends_at", "rolling", "is_active", "items_count", "sold", "first_sold_out")
    inlines = [FlashItemInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[FlashSession]:
        return super().get_queryset(request).annotate(n_items=Count("items"))

    @admin.display(description=_("商品数"))
    def items_count(self, obj: Any) -> int:
        return obj.n_items

    @admin.display(description=_("已售"))
    def sold(self, obj: FlashSession) -> int:
        return sum(i.total_stock - i.stock_left for i in obj.items.all())

    @admin.display(description=_("最早售罄"))
    def first_sold_out(self, obj: FlashSession) -> Any:
        times = [i.sold_out_at for i in obj.items.all() if i.sold_out_at]
        return min(times) if times else "-"


@admin.register(FlashItem)
class FlashItemAdmin(ConsoleAdmin):
    console_group = "marketing"
    console_icon = "flash_on"
    console_order = 21
    money_fields = ("flash_price",)

    list_display = ("id", "session", "sku", "flash_price", "total_stock", "stock_left", "sold", "sold_out_at")
    list_select_related = ("session", "sku")
    raw_id_fields = ("sku",)
    readonly_fields = ("stock_left", "sold_out_at")

    @admin.display(description=_("已售"))
    def sold(self, obj: FlashItem) -> int:
        return obj.total_stock - obj.stock_left


@admin.register(GroupBuyCampaign)
class GroupBuyCampaignAdmin(ConsoleAdmin):
    console_group = "marketing"
    console_icon = "groups"
    console_order = 30
    money_fields = ("group_price",)

    list_display = ("name", "sku", "group_price", "group_size", "starts_at", "ends_at", "formed", "failed", "running")
    raw_id_fields = ("sku",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[GroupBuyCampaign]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_formed=Count("groups", filter=Q(groups__status="complete")),
                n_failed=Count("groups", filter=Q(groups__status="failed")),
                n_running=Count("groups", filter=Q(groups__status="open")),
            )
        )

    @admin.display(description=_("成团"))
    def formed(self, obj: Any) -> int:
        return obj.n_formed

    @admin.display(description=_("失败"))
    def failed(self, obj: Any) -> int:
        return obj.n_failed

    @admin.display(description=_("进行中"))
    def running(self, obj: Any) -> int:
        return obj.n_running


class GroupMemberInline(ConsoleTabularInline):
    model = GroupMember
    extra = 0
    raw_id_fields = ("user",)
    readonly_fields = ("user", "order_id", "is_leader", "status", "joined_at", "paid_at")
    can_delete = False


@admin.register(Group)
class GroupAdmin(ConsoleAdmin):
    console_group = "marketing"
    console_icon = "diversity_3"
    console_order = 31

    list_display = ("id", "campaign", "leader", "status", "paid_count", "seats_taken", "size", "expires_at")
    list_filter = ("status",)
    list_select_related = ("campaign", "leader")
    raw_id_fields = ("leader",)
    inlines = [GroupMemberInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BargainCampaign)
class BargainCampaignAdmin(ConsoleAdmin):
    console_group = "marketing"
    console_icon = "content_cut"
    console_order = 40
    money_fields = ("floor_price",)

    list_display = ("name", "sku", "floor_price", "helpers_needed", "ends_at", "started", "completed", "bought")
    raw_id_fields = ("sku",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[BargainCampaign]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_started=Count("bargains"),
                n_floor=Count("bargains", filter=Q(bargains__floor_reached_at__isnull=False)),
                n_bought=Count("bargains", filter=Q(bargains__status="bought")),
            )
        )

    @admin.display(description=_("发起"))
    def started(self, obj: Any) -> int:
        return obj.n_started

    @admin.display(description=_("砍到底价"))
    def completed(self, obj: Any) -> int:
        return obj.n_floor

    @admin.display(description=_("已下单"))
    def bought(self, obj: Any) -> int:
        return obj.n_bought


class BargainHelpInline(ConsoleTabularInline):
    money_fields = ("amount",)

    model = BargainHelp
    extra = 0
    readonly_fields = ("helper", "amount", "created_at")
    can_delete = False


@admin.register(Bargain)
class BargainAdmin(ConsoleAdmin):
    console_group = "marketing"
    console_icon = "handshake"
    console_order = 41
    money_fields = ("original_price", "current_price")

    list_display = ("id", "campaign", "user", "original_price", "current_price", "helper_count", "status", "expires_at")
    list_filter = ("status",)
    list_select_related = ("campaign", "user")
    raw_id_fields = ("user",)
    inlines = [BargainHelpInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BannerForm(forms.ModelForm):
    class Meta:
        model = Banner
        fields = ("title", "subtitle", "image", "link", "sort", "starts_at", "ends_at", "is_active")

    def clean_image(self) -> Any:
        upload = self.cleaned_data.get("image")
        if upload is None or upload is False or "image" not in self.changed_data:
            return upload
        upload.seek(0)
        try:
            return banners.image_file(upload.read())
        except DomainError as exc:
            raise ValidationError(exc.message) from exc


@admin.register(Banner)
class BannerAdmin(ConsoleAdmin):
    """首页轮播图: the picture is cropped to the carousel's shape on upload; sort and 启用 edit in the list."""

    console_group = "marketing"
    console_icon = "view_carousel"
    console_order = 5
    form = BannerForm

    list_display = ("preview", "title", "link", "sort", "is_active", "window", "state")
    list_display_links = ("preview", "title")
    list_editable = ("sort", "is_active")
    list_filter = ("is_active",)
    search_fields = ("title", "subtitle")
    readonly_fields = ("large_preview", "created_at")
    fields = ("large_preview", "image", "title", "subtitle", "link", "sort", "starts_at", "ends_at", "is_active")

    @admin.display(description=_("图片"))
    def preview(self, obj: Banner) -> str:
        if not obj.image:
            return "-"
        return format_html('<img class="jishi-thumb" src="{}" alt="" style="width:99px;height:44px">', obj.image.url)

    @admin.display(description=_("当前图片"))
    def large_preview(self, obj: Banner) -> str:
        if not obj.pk or not obj.image:
            return "-"
        return format_html('<img src="{}" alt="" style="max-width:540px;width:100%;border-radius:8px">', obj.image.url)

    @admin.display(description=_("展示时间"))
    def window(self, obj: Banner) -> str:
        fmt = "%Y-%m-%d %H:%M"
        start = timezone.localtime(obj.starts_at).strftime(fmt) if obj.starts_at else _("立即")
        end = timezone.localtime(obj.ends_at).strftime(fmt) if obj.ends_at else _("长期")
        return f"{start} ~ {end}"

    @admin.display(description=_("状态"))
    def state(self, obj: Banner) -> str:
        now = timezone.now()
        if banners.is_live(obj, now):
            return str(_("展示中"))
        if not obj.is_active:
            return str(_("已停用"))
        if obj.starts_at and obj.starts_at > now:
            return str(_("未开始"))
        return str(_("已结束"))
