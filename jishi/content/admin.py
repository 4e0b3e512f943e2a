"""Ops console for content: moderation queue, topics, banned words, reward rules and budgets, performance."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from unfold.forms import ActionForm

from jishi.core.charts import bar_chart
from jishi.core.console import ConsoleAdmin, SettingsAdmin
from jishi.core.dashboard import Card, Figure, Period, register_card
from jishi.core.errors import DomainError
from jishi.core.money import format_yuan

from . import services
from .models import (
    AttributedLine,
    BannedWord,
    Comment,
    CommentStatus,
    ContentSettings,
    Post,
    PostStatus,
    ProductReview,
    RewardBudgetDay,
    RewardGrant,
    RewardRule,
    Topic,
)
from .text import forget_words


class ReasonActionForm(ActionForm):
    reason = forms.CharField(label=_("原因"), required=False, max_length=200)


def _run(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: Any, action: Any) -> None:
    done = 0
    for row in queryset:
        try:
            action(row)
            done += 1
        except DomainError as exc:
            model_admin.message_user(request, f"{row}: {exc.message}", messages.WARNING)
    if done:
        model_admin.message_user(request, _("已处理 %(n)d 条") % {"n": done}, messages.SUCCESS)


@admin.register(ContentSettings)
class ContentSettingsAdmin(SettingsAdmin):
    console_icon = "article"
    console_order = 40
    percent_fields = ("commission_bp",)

    def settings_row(self) -> ContentSettings:
        return services.get_settings(fresh=True)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.forget_settings()


@admin.register(Post)
class PostAdmin(ConsoleAdmin):
    console_group = "content"
    console_icon = "edit_note"
    console_order = 10

    list_display = (
        "id", "title", "form", "author", "status", "flagged_words", "pinned", "featured",
        "view_count", "like_count", "comment_count", "created_at",
    )  # fmt: skip
    list_filter = ("status", "form", "by_operator", "pinned", "featured")
    search_fields = ("title", "author__phone", "author__nickname")
    readonly_fields = (
        "author", "by_operator", "body", "body_html", "scores", "status", "reject_reason", "flagged_words",
        "like_count", "favourite_count", "comment_count", "share_count", "view_count", "published_at",
    )  # fmt: skip
    fields = ("title", "form", *readonly_fields, "tags")
    action_form = ReasonActionForm
    actions = ["approve", "reject", "take_down", "pin", "unpin", "feature", "unfeature"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # operators write posts in the storefront or API, where they are checked

    def get_urls(self) -> list[Any]:
        extra = [path("report/", self.admin_site.admin_view(self.report_view), name="content_report")]
        return extra + super().get_urls()

    @admin.action(description=_("通过审核"))
    def approve(self, request: HttpRequest, queryset: Any) -> None:
        _run(self, request, queryset, lambda p: services.approve_post(request.user, p.pk))  # type: ignore[arg-type]

    @admin.action(description=_("驳回（填写原因）"))
    def reject(self, request: HttpRequest, queryset: Any) -> None:
        reason = request.POST.get("reason", "")
        _run(self, request, queryset, lambda p: services.reject_post(request.user, p.pk, reason))  # type: ignore[arg-type]

    @admin.action(description=_("下架"))
    def take_down(self, request: HttpRequest, queryset: Any) -> None:
        reason = request.POST.get("reason", "")
        _run(self, request, queryset, lambda p: services.take_down(request.user, p.pk, reason))  # type: ignore[arg-type]

    @admin.action(description=_("置顶"))
    def pin(self, request: HttpRequest, queryset: Any) -> None:
        _run(self, request, queryset, lambda p: services.set_flags(request.user, p.pk, pinned=True))  # type: ignore[arg-type]

    @admin.action(description=_("取消置顶"))
    def unpin(self, request: HttpRequest, queryset: Any) -> None:
        _run(self, request, queryset, lambda p: services.set_flags(request.user, p.pk, pinned=False))  # type: ignore[arg-type]

    @admin.action(description=_("设为精选"))
    def feature(self, request: HttpRequest, queryset: Any) -> None:
        _run(self, request, queryset, lambda p: services.set_flags(request.user, p.pk, featured=True))  # type: ignore[arg-type]

    @admin.action(description=_("取消精选"))
    def unfeature(self, request: HttpRequest, queryset: Any) -> None:
        _run(self, request, queryset, lambda p: services.set_flags(request.user, p.pk, featured=False))  # type: ignore[arg-type]

    def report_view(self, request: HttpRequest) -> HttpResponse:
        try:
            days = max(1, min(int(request.GET.get("days", "30")), 3650))
        except ValueError:
            days = 30
        rows = services.performance_report(days, 20)
        for row in rows:
            row["gmv_yuan"] = format_yuan(row["gmv"])
        chart = bar_chart(
            [(r["post"].title[:12], r["gmv"]) for r in rows], value_label=str(_("归因成交额")), format_value=format_yuan
        )
        context = {
            **self.admin_site.each_context(request),
            "rows": rows,
            "chart": chart,
            "days": days,
            "choices": [7, 30, 90, 365],
            "title": _("内容表现"),
        }
        return TemplateResponse(request, "admin/content/report.html", context)


@admin.register(Comment)
class CommentAdmin(ConsoleAdmin):
    console_group = "content"
    console_icon = "forum"
    console_order = 20

    list_display = ("id", "post", "user", "body", "status", "flagged_words", "created_at")
    list_filter = ("status",)
    search_fields = ("body",)
    readonly_fields = ("post", "user", "parent", "body", "status", "reject_reason", "flagged_words")
    action_form = ReasonActionForm
    actions = ["approve", "reject"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("通过审核"))
    def approve(self, request: HttpRequest, queryset: Any) -> None:
        rows = queryset.filter(status=CommentStatus.PENDING)
        _run(self, request, rows, lambda c: services.moderate_comment(request.user, c.pk, True))  # type: ignore[arg-type]

    @admin.action(description=_("驳回（填写原因）"))
    def reject(self, request: HttpRequest, queryset: Any) -> None:
        reason = request.POST.get("reason", "")
        _run(self, request, queryset, lambda c: services.moderate_comment(request.user, c.pk, False, reason))  # type: ignore[arg-type]


@admin.register(Topic)
class TopicAdmin(ConsoleAdmin):
    console_group = "content"
    console_icon = "tag"
    console_order = 30

    list_display = ("title", "is_active", "sort", "created_at")
    list_editable = ("is_active", "sort")
    filter_horizontal = ("posts", "products")

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "posts":
            kwargs["queryset"] = Post.objects.filter(status=PostStatus.APPROVED)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(BannedWord)
class BannedWordAdmin(ConsoleAdmin):
    console_group = "content"
    console_icon = "block"
    console_order = 40

    list_display = ("word", "action", "is_active", "created_at")
    list_editable = ("action", "is_active")
    list_filter = ("action", "is_active")
    search_fields = ("word",)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        forget_words()


@admin.register(RewardRule)
class RewardRuleAdmin(ConsoleAdmin):
    console_group = "content"
    console_icon = "emoji_events"
    console_order = 50
    money_fields = ("red_packet", "daily_budget")

    list_display = ("name", "threshold", "red_packet", "points", "daily_budget", "daily_points_budget", "is_active")
    list_editable = ("is_active",)


@admin.register(RewardBudgetDay)
class RewardBudgetDayAdmin(ConsoleAdmin):
    console_group = "content"
    console_icon = "event_note"
    console_order = 60
    money_fields = ("spent",)

    list_display = ("day", "rule", "spent", "spent_points", "grants")
    list_filter = ("rule",)
    readonly_fields = ("rule", "day", "spent", "spent_points", "grants")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(RewardGrant)
class RewardGrantAdmin(ConsoleAdmin):
    console_group = "content"
    console_icon = "featured_seasonal_and_gifts"
    console_order = 70
    money_fields = ("red_packet",)

    list_display = ("created_at", "rule", "post", "creator", "red_packet", "points", "interactions")
    list_filter = ("rule",)
    readonly_fields = ("rule", "post", "creator", "day", "red_packet", "points", "red_packet_id", "interactions")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AttributedLine)
class AttributedLineAdmin(ConsoleAdmin):
    console_group = "content"
    console_icon = "insights"
    console_order = 80
    money_fields = ("paid_amount", "refunded_amount", "commission")

    list_display = (
        "created_at",
        "post",
        "creator",
        "order_id",
        "product_id",
        "paid_amount",
        "refunded_amount",
        "commission",
    )
    readonly_fields = (
        "post",
        "creator",
        "buyer_id",
        "order_id",
        "line_id",
        "product_id",
        "quantity",
        "paid_amount",
        "refunded_amount",
        "commission",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


def _pending_posts(period: Period) -> Figure:
    n = Post.objects.filter(status=PostStatus.PENDING).count()
    url = f"{reverse('admin:content_post_changelist')}?status__exact={PostStatus.PENDING}"
    return Figure(value=f"{n:,}", link=url, alert=n > 0)


register_card(
    Card(
        "todo.posts",
        _("待审核笔记"),
        "todo",
        _pending_posts,
        "edit_note",
        40,
        lambda u: u.has_perm("content.change_post"),
    )
)


@admin.register(ProductReview)
class ProductReviewAdmin(ConsoleAdmin):
    """Buyers' product reviews; their words and photos are moderated as the linked 测评 post."""

    console_group = "content"
    console_icon = "reviews"

    list_display = ("product", "stars", "author", "post_status", "created_at")
    list_filter = ("stars", "post__status")
    search_fields = ("product__name", "user__phone", "post__body")
    list_select_related = ("product", "user", "post")
    readonly_fields = ("order_line", "post", "product", "user", "stars", "created_at")

    @admin.display(description=_("买家"))
    def author(self, obj: ProductReview) -> str:
        return str(obj.user)

    @admin.display(description=_("审核状态"), ordering="post__status")
    def post_status(self, obj: ProductReview) -> str:
        return str(obj.post.get_status_display())

    def has_add_permission(self, request: Any) -> bool:
        return False
