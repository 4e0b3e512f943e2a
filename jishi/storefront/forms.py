"""Storefront forms: they only parse and bound the input; the services decide."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jishi.accounts import services as accounts
from jishi.core.errors import DomainError, InvalidInput
from jishi.orders.models import AfterSaleKind
from jishi.payments.models import PaymentMethod

from . import regions

ID_MAX = 2**62
AFTER_SALE_REASONS = (
    _("不想要了"),
    _("商品破损"),
    _("质量问题"),
    _("发错货 / 少件"),
    _("与描述不符"),
    _("未按约定时间发货"),
    _("其他"),
)
# Wide bounds only: the orders services check quantities against MAX_LINE_QUANTITY.
QUANTITY_MAX = 10**6
QUANTITY_ERRORS = {
    "required": _("请填写数量"),
    "invalid": _("数量须为整数"),
    "min_value": _("数量至少为 1"),
    "max_value": _("数量太大"),
}


class PasswordLoginForm(forms.Form):
    phone = forms.CharField(label=_("手机号"), max_length=20)
    password = forms.CharField(label=_("密码"), max_length=128, strip=False)


class SmsCodeForm(forms.Form):
    phone = forms.CharField(label=_("手机号"), max_length=20)


class SmsLoginForm(SmsCodeForm):
    code = forms.CharField(label=_("验证码"), max_length=8)


class CartAddForm(forms.Form):
    sku_id = forms.IntegerField(
        label=_("规格"), min_value=1, max_value=ID_MAX, error_messages={"required": _("请选择规格")}
    )
    quantity = forms.IntegerField(label=_("数量"), min_value=1, max_value=QUANTITY_MAX, error_messages=QUANTITY_ERRORS)
    then = forms.ChoiceField(choices=[("cart", "cart"), ("checkout", "checkout")], required=False)
    # The page the form was on, to show a refusal there even when no SKU was picked.
    product_id = forms.IntegerField(required=False, min_value=1, max_value=ID_MAX)


class CartLineForm(forms.Form):
    """One change to one cart line: a new quantity, (de)selecting it, or removing it."""

    action = forms.ChoiceField(choices=[("quantity", "quantity"), ("select", "select"), ("remove", "remove")])
    # The stepper buttons send ``set``; the number box sends ``quantity``.
    set = forms.IntegerField(
        label=_("数量"), required=False, min_value=1, max_value=QUANTITY_MAX, error_messages=QUANTITY_ERRORS
    )
    quantity = forms.IntegerField(
        label=_("数量"), required=False, min_value=1, max_value=QUANTITY_MAX, error_messages=QUANTITY_ERRORS
    )
    selected = forms.BooleanField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "quantity" and data.get("set") is None and data.get("quantity") is None:
            self.add_error("quantity", QUANTITY_ERRORS["required"])
        return data

    @property
    def new_quantity(self) -> int:
        return int(self.cleaned_data.get("set") or self.cleaned_data["quantity"])


class CheckoutForm(forms.Form):
    """What to buy (``sku``/``qty`` for "buy now", else the cart's selected lines) and where to."""

    sku = forms.IntegerField(required=False, min_value=1, max_value=ID_MAX)
    qty = forms.IntegerField(
        label=_("数量"), required=False, min_value=1, max_value=QUANTITY_MAX, error_messages=QUANTITY_ERRORS
    )
    address_id = forms.IntegerField(required=False, min_value=1, max_value=ID_MAX)
    remark = forms.CharField(label=_("备注"), required=False, max_length=200)
    # "" = the best coupons (the default), "none" = no coupon, else one coupon's id.
    coupon = forms.RegexField(label=_("优惠券"), required=False, regex=r"^(none|[1-9][0-9]{0,17})$")
    points = forms.BooleanField(label=_("积分抵扣"), required=False)

    def lines(self) -> list[tuple[int, int]] | None:
        sku = self.cleaned_data.get("sku")
        return [(sku, self.cleaned_data.get("qty") or 1)] if sku else None

    def coupon_ids(self) -> list[int] | None:
        """What the coupon step is asked for: None picks the best, [] none, [id] that one."""
        chosen = self.cleaned_data.get("coupon") or ""
        if not chosen:
            return None
        return [] if chosen == "none" else [int(chosen)]

    def buy_params(self) -> dict[str, str]:
        """The query parameters that keep a "buy now" checkout on its one SKU."""
        sku = self.cleaned_data.get("sku")
        return {"sku": str(sku), "qty": str(self.cleaned_data.get("qty") or 1)} if sku else {}

    def line_params(self) -> dict[str, str]:
        """``buy_params`` and the buyer's coupon and points choices."""
        params = self.buy_params()
        if self.cleaned_data.get("coupon"):
            params["coupon"] = self.cleaned_data["coupon"]
        if self.cleaned_data.get("points"):
            params["points"] = "1"
        return params


class AddressForm(forms.Form):
    contact = forms.CharField(label=_("收货人"), max_length=32)
    phone = forms.CharField(label=_("电话"), max_length=20)
    province = forms.CharField(label=_("省"), max_length=32)
    city = forms.CharField(label=_("市"), max_length=32)
    district = forms.CharField(label=_("区"), max_length=32)
    detail = forms.CharField(label=_("详细地址"), max_length=200)
    is_default = forms.BooleanField(label=_("设为默认地址"), required=False)
    # The point the buyer picked with "使用当前位置" (else the address is geocoded when saved).
    latitude = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    longitude = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)

    def clean_phone(self) -> str:
        try:
            return accounts.normalise_phone(self.cleaned_data["phone"])
        except DomainError as exc:
            raise forms.ValidationError(str(exc.message)) from exc

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        place = (data.get("province"), data.get("city"), data.get("district"))
        if all(place) and not regions.is_known(*place):  # type: ignore[arg-type]
            self.add_error("district", _("请从列表中选择省、市、区"))
        if data.get("latitude") is None or data.get("longitude") is None:
            data["latitude"] = data["longitude"] = None  # half a point is none
        return data

    def region_fields(self) -> list[tuple[str, Any, list[str], str]]:
        """(name, label, options, value) of the three selects for the values now in the form
        (the page's script refills city and district when the province or city changes)."""
        province = str(self["province"].value() or "")
        city = str(self["city"].value() or "")
        district = str(self["district"].value() or "")
        return [
            ("province", self.fields["province"].label, regions.provinces(), province),
            ("city", self.fields["city"].label, regions.cities(province), city),
            ("district", self.fields["district"].label, regions.districts(province, city), district),
        ]


class PayForm(forms.Form):
    method = forms.ChoiceField(
        label=_("支付方式"),
        choices=[(PaymentMethod.WALLET.value, _("余额")), (PaymentMethod.SANDBOX.value, _("沙箱支付"))],
        error_messages={"required": _("请选择支付方式"), "invalid_choice": _("请选择支付方式")},
    )


class AfterSaleForm(forms.Form):
    """Lines are ``line`` checkboxes (order line ids) with a ``qty_<id>`` box each; the amount is
    in yuan and may be left empty for "the most refundable"."""

    kind = forms.ChoiceField(label=_("类型"), choices=AfterSaleKind.choices, initial=AfterSaleKind.REFUND_ONLY)
    # A common reason picked from the list, the buyer's own words, or both ("商品破损：盒子压扁了").
    reason_pick = forms.ChoiceField(
        label=_("原因"), required=False, choices=[("", "")] + [(r, r) for r in AFTER_SALE_REASONS]
    )
    reason = forms.CharField(label=_("原因"), max_length=160, required=False)
    amount = forms.DecimalField(
        label=_("退款金额"), required=False, min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )

    def __init__(self, *args: Any, remaining: dict[int, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.remaining = remaining
        self.fields["line"] = forms.TypedMultipleChoiceField(
            choices=[(str(line_id), str(line_id)) for line_id in remaining],
            coerce=int,
            error_messages={"required": _("请选择要退款的商品"), "invalid_choice": _("请选择要退款的商品")},
        )
        for line_id, most in remaining.items():
            self.fields[f"qty_{line_id}"] = forms.IntegerField(
                label=_("数量"),
                required=False,
                min_value=1,
                max_value=most,
                error_messages={**QUANTITY_ERRORS, "max_value": _("超过可退数量")},
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        pick, words = data.get("reason_pick") or "", (data.get("reason") or "").strip()
        if not pick and not words:
            self.add_error("reason", _("请填写原因"))
        data["reason"] = f"{pick}：{words}" if pick and words else (pick or words)
        return data

    def wanted(self) -> dict[int, int]:
        """{order line id: quantity} of the picked lines (a blank quantity means all that is left)."""
        return {
            line_id: self.cleaned_data.get(f"qty_{line_id}") or self.remaining[line_id]
            for line_id in self.cleaned_data.get("line", [])
        }

    def amount_fen(self) -> int | None:
        amount = self.cleaned_data.get("amount")
        return None if amount is None else int(amount * 100)


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal in the form: its message on top, field details by the field."""
    message = str(error.message)
    form.add_error(None, message)
    for name, details in error.fields.items():
        for detail in details:
            if name in form.fields and detail != message:
                form.add_error(name, detail)


def error_message(error: DomainError) -> str:
    """A refusal in words a buyer understands: the service's message, or, when an
    ``InvalidInput`` carries only the generic "输入有误", its field details (ids left out)."""
    message = str(error.message)
    details = [d for ds in error.fields.values() for d in ds if d and not d.isdigit() and d != message]
    if isinstance(error, InvalidInput) and error.message is InvalidInput.default_message and details:
        return "；".join(dict.fromkeys(details))
    return message


def form_error_message(form: forms.Form) -> str:
    """The first problem of an invalid form, for pages that show one line of error."""
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = field.label if field is not None else None
        for error in errors:
            return f"{label}：{error}" if label and str(label) not in str(error) else str(error)
    return str(_("输入有误"))
