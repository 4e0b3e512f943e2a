"""Console: stores (hours, holidays, photos, staff, slots inline), store order boards,
transfers, stock counts, counter sales, and store sales online vs offline with a chart."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline

from jishi.catalog.models import Sku
from jishi.core.admin_views import FormBlock, render_form_page, yuan, yuan_column
from jishi.core.charts import bar_chart
from jishi.core.console import ConsoleAdmin
from jishi.core.errors import DomainError
from jishi.core.money import format_yuan
from jishi.inventory.models import Location
from jishi.orders.admin import OperatorOnly, _error_text
from jishi.orders.models import OrderStatus

from .models import (
    CounterSale,
    DeliverySlot,
    Fulfilment,
    StockCount,
    Store,
    StoreHoliday,
    StoreHours,
    StorePhoto,
    StoreStaff,
    Transfer,
)


class HoursInline(TabularInline):
    model = StoreHours
    extra = 0


class HolidayInline(TabularInline):
    model = StoreHoliday
    extra = 0


class PhotoInline(TabularInline):
    model = StorePhoto
    extra = 0


class StaffInline(TabularInline):
    model = StoreStaff
    extra = 0
    raw_id_fields = ["user"]


class SlotInline(TabularInline):
    model = DeliverySlot
    extra = 0
    readonly_fields = ["booked"]


def _area_of(data: dict[str, Any]) -> Any:
    from . import stores

    return stores.AreaSpec(
        kind=data.get("area_kind") or "radius",
        radius_m=data.get("delivery_radius_m"),
        polygon=tuple(tuple(p) for p in data.get("polygon") or []),  # type: ignore[misc]
        fee_tiers=tuple(stores.FeeTier(int(t["up_to_m"]), int(t["fee"])) for t in data.get("fee_tiers") or []),
        fee_per_km_beyond=data.get("fee_per_km_beyond") or 0,
        fee_cap=data.get("fee_cap") or 0,
        min_order_amount=data.get("min_order_amount") or 0,
    )


class StoreForm(forms.ModelForm):
    class Meta:
        model = Store
        fields = [
            "name",
            "city",
            "address",
            "phone",
            "status",
            "latitude",
            "longitude",
            "delivery_enabled",
            "pickup_enabled",
            "area_kind",
            "delivery_radius_m",
            "polygon",
            "fee_tiers",
            "fee_per_km_beyond",
            "fee_cap",
            "min_order_amount",
            "prep_minutes",
        ]

    def clean(self) -> dict[str, Any]:
        from . import stores

        data = super().clean() or {}
        if self.errors:
            return data
        try:
            stores.check_area(data["latitude"], data["longitude"], _area_of(data))
        except (DomainError, KeyError, TypeError, ValueError) as exc:
            raise forms.ValidationError(str(getattr(exc, "message", exc))) from exc
        return data


@admin.register(Store)
class StoreAdmin(OperatorOnly, ConsoleAdmin):
    console_group = "retail"
    form = StoreForm
    list_display = ["name", "city", "status", "delivery_radius_m", "fee_summary", "minimum", "staff_count"]
    list_filter = ["status", "city", "area_kind"]
    search_fields = ["name", "address"]
    readonly_fields = ["location", "reach_m"]
    inlines = [HoursInline, HolidayInline, PhotoInline, StaffInline, SlotInline]
    fieldsets = [
        (None, {"fields": ["name", "city", "address", "phone", "status", "location"]}),
        (_("位置"), {"fields": ["latitude", "longitude"]}),
        (
            _("配送范围与运费"),
            {
                "fields": [
                    "delivery_enabled",
                    "pickup_enabled",
                    "area_kind",
                    "delivery_radius_m",
                    "polygon",
                    "reach_m",
                    "fee_tiers",
                    "fee_per_km_beyond",
                    "fee_cap",
                    "min_order_amount",
                    "prep_minutes",
                ]
            },
        ),
    ]
    minimum = yuan_column("min_order_amount", _("起送"))

    # Operators edit stores here; the area is checked (radius cap, tiers) by the store service.
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._console_allows(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._console_allows(request)

    @admin.display(description=_("运费"))
    def fee_summary(self, obj: Store) -> str:
        tiers = "，".join(f"≤{t['up_to_m'] / 1000:g}km {yuan(t['fee'])}" for t in obj.fee_tiers or [])
        extra = f"，+{yuan(obj.fee_per_km_beyond)}/km" if obj.fee_per_km_beyond else ""
        capped = _("封顶")
        cap = f"，{capped} {yuan(obj.fee_cap)}" if obj.fee_cap else ""
        return f"{tiers}{extra}{cap}" or "—"

    @admin.display(description=_("店员"))
    def staff_count(self, obj: Store) -> int:
        return obj.staff.count()

    def save_model(self, request: HttpRequest, obj: Store, form: Any, change: bool) -> None:
        from . import stores

        spec = _area_of(form.cleaned_data)
        if not change:
            created = stores.create_store(
                request.user,  # type: ignore[arg-type]
                name=obj.name,
                address=obj.address,
                latitude=obj.latitude,
                longitude=obj.longitude,
                area=spec,
                city=obj.city,
                phone=obj.phone,
            )
            obj.pk, obj.location_id = created.pk, created.location_id
            return
        for key, value in stores.check_area(obj.latitude, obj.longitude, spec).items():
            setattr(obj, key, value)
        super().save_model(request, obj, form, change)

    def get_urls(self) -> list[Any]:
        extra = [path("sales/", self.admin_site.admin_view(self.sales_view), name="retail_sales")]
        return extra + super().get_urls()

    def sales_view(self, request: HttpRequest) -> HttpResponse:
        """Paid sales per store, online (delivery, pickup) against offline (counter)."""
        live = ~Q(fulfilments__order__status__in=[OrderStatus.PENDING_PAYMENT, OrderStatus.CLOSED])
        rows = Store.objects.annotate(
            online=Sum("fulfilments__order__paid_amount", filter=live & ~Q(fulfilments__mode="offline"), default=0),
            offline=Sum("fulfilments__order__paid_amount", filter=live & Q(fulfilments__mode="offline"), default=0),
            orders=Count("fulfilments", filter=live),
        ).order_by("id")
        data = [
            {
                "name": s.name,
                "online": s.online,
                "offline": s.offline,
                "orders": s.orders,
                "total": s.online + s.offline,
            }
            for s in rows
        ]
        chart_rows: list[tuple[str, int]] = []
        for d in data:
            online, offline = _("线上"), _("线下")
            chart_rows += [(f"{d['name']} {online}", d["online"]), (f"{d['name']} {offline}", d["offline"])]
        context = {
            **self.admin_site.each_context(request),
            "title": _("门店销售：线上与线下"),
            "rows": [{**d, **{k + "_yuan": format_yuan(d[k]) for k in ("online", "offline", "total")}} for d in data],
            "chart": bar_chart(chart_rows, value_label=str(_("实付金额")), format_value=format_yuan),
        }
        return TemplateResponse(request, "admin/retail/sales.html", context)


@admin.register(Fulfilment)
class FulfilmentAdmin(OperatorOnly, ConsoleAdmin):
    console_group = "retail"
    list_display = ["order", "store", "mode", "status", "slot", "distance_m", "fee_yuan", "rider", "created_at"]
    list_filter = ["store", "mode", "status"]
    search_fields = ["order__number"]
    list_select_related = ["order", "store", "slot", "rider"]
    fee_yuan = yuan_column("fee", _("配送费"), "fee")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the board moves through its services (clerk API) only

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TransferForm(forms.Form):
    source = forms.ModelChoiceField(Location.objects.order_by("kind", "id"), label=_("调出"))
    target = forms.ModelChoiceField(Location.objects.order_by("kind", "id"), label=_("调入"))
    lines = forms.CharField(
        label=_("明细"),
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "6901234567890 5\n6901234567891 2"}),
        help_text=_("每行一个商品：条码（或 SKU 编号）与数量，以空格分隔"),
    )

    def clean_lines(self) -> list[tuple[int, int]]:
        rows = []
        for number, text in enumerate(str(self.cleaned_data["lines"]).splitlines(), 1):
            if not text.strip():
                continue
            parts = text.split()
            if len(parts) != 2 or not parts[1].isdigit() or int(parts[1]) < 1:
                raise forms.ValidationError(_("第 %(n)s 行应为“条码 数量”") % {"n": number})
            rows.append((parts[0], int(parts[1])))
        if not rows:
            raise forms.ValidationError(_("请填写要调拨的商品"))
        codes = [code for code, _q in rows]
        by_barcode = dict(Sku.objects.filter(barcode__in=codes).values_list("barcode", "pk"))
        ids = {int(c) for c in codes if c not in by_barcode and c.isdigit() and len(c) < 19}
        known_ids = set(Sku.objects.filter(pk__in=ids).values_list("pk", flat=True))
        unknown = [c for c in codes if c not in by_barcode and not (c.isdigit() and int(c) in known_ids)]
        if unknown:
            raise forms.ValidationError(_("条码不存在：%(codes)s") % {"codes": "、".join(unknown)})
        return [(by_barcode.get(code) or int(code), quantity) for code, quantity in rows]


@admin.register(Transfer)
class TransferAdmin(OperatorOnly, ConsoleAdmin):
    console_group = "retail"
    list_display = ["number", "source", "target", "lines_text", "operator", "created_at"]
    list_select_related = ["source", "target", "created_by"]

    @admin.display(description=_("明细"))
    def lines_text(self, obj: Transfer) -> str:
        return "，".join(f"SKU {sku_id} × {quantity}" for sku_id, quantity in obj.lines or [])

    @admin.display(description=_("经办人"))
    def operator(self, obj: Transfer) -> str:
        return str(obj.created_by or "—")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._console_allows(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        """新建调拨: every line leaves the source or none does (the stock service decides)."""
        from . import stores

        if not self.has_add_permission(request):
            raise PermissionDenied
        changelist = reverse("admin:retail_transfer_changelist")
        form = TransferForm(request.POST if request.method == "POST" else None)
        status = 200
        if request.method == "POST":
            status = 400
            if form.is_valid():
                try:
                    record = stores.transfer_stock(
                        request.user,  # type: ignore[arg-type]
                        form.cleaned_data["source"],
                        form.cleaned_data["target"],
                        form.cleaned_data["lines"],
                    )
                except DomainError as exc:
                    self.message_user(request, _error_text(exc), messages.ERROR)
                    status = exc.status
                else:
                    self.message_user(request, _("调拨单 %(number)s 已完成") % {"number": record.number})
                    return HttpResponseRedirect(changelist)
        return render_form_page(
            request,
            title=_("新建调拨"),
            forms=[FormBlock(form=form, submit=_("确认调拨"))],
            breadcrumbs=[(_("调拨"), changelist)],
            back_url=changelist,
            site=self.admin_site,
            status=status,
        )


@admin.register(StockCount)
class StockCountAdmin(OperatorOnly, ConsoleAdmin):
    console_group = "retail"
    list_display = ["number", "store", "lines_text", "operator", "created_at"]
    list_select_related = ["store", "created_by"]

    @admin.display(description=_("明细"))
    def lines_text(self, obj: StockCount) -> str:
        return "，".join(f"SKU {line['sku_id']}: {line['before']} → {line['counted']}" for line in obj.lines or [])

    @admin.display(description=_("经办人"))
    def operator(self, obj: StockCount) -> str:
        return str(obj.created_by or "—")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # counted by clerks at their store (staff API)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CounterSale)
class CounterSaleAdmin(OperatorOnly, ConsoleAdmin):
    console_group = "retail"
    list_display = ["order", "store", "clerk", "tender", "payable", "status", "created_at"]
    list_filter = ["store", "tender"]
    list_select_related = ["order", "store", "clerk"]
    search_fields = ["order__number"]

    @admin.display(description=_("实付"))
    def payable(self, obj: CounterSale) -> str:
        return yuan(obj.order.paid_amount)

    @admin.display(description=_("状态"))
    def status(self, obj: CounterSale) -> str:
        return str(OrderStatus(obj.order.status).label)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
