"""Group-buy page forms: they parse and bound the input; ``jishi.groupbuy`` decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jishi.groupbuy.models import PointType

MAX_PHOTOS = 9
MAX_PHOTO_BYTES = 8 * 1024 * 1024


class LeaderApplicationForm(forms.Form):
    """A buyer's 团长 application: who they are and the pickup point they will run."""

    name = forms.CharField(label=_("真实姓名"), max_length=32)
    phone = forms.RegexField(label=_("手机号"), regex=r"^1\d{10}$", error_messages={"invalid": _("请填写 11 位手机号")})
    id_number = forms.RegexField(
        label=_("身份证号"), regex=r"^\d{17}[\dXx]$", error_messages={"invalid": _("请填写 18 位身份证号")}
    )
    point_name = forms.CharField(label=_("自提点名称"), max_length=64)
    point_type = forms.ChoiceField(label=_("自提点类型"), choices=PointType.choices)
    address = forms.CharField(label=_("地址"), max_length=200)
    latitude = forms.FloatField(label=_("纬度"), min_value=-90, max_value=90)
    longitude = forms.FloatField(label=_("经度"), min_value=-180, max_value=180)
    hours = forms.CharField(label=_("营业时间"), max_length=64, required=False)
    daily_capacity = forms.IntegerField(label=_("每日可接单量"), min_value=1, max_value=100_000, initial=200)

    def payload(self, photos: list[str]) -> dict[str, Any]:
        """What ``leaders.apply`` takes (the pinned API's application body)."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "phone": data["phone"],
            "id_number": data["id_number"].upper(),
            "pickup_point": {
                "name": data["point_name"],
                "type": data["point_type"],
                "address": data["address"],
                "latitude": data["latitude"],
                "longitude": data["longitude"],
                "hours": data["hours"],
                "daily_capacity": data["daily_capacity"],
                "photos": photos,
            },
        }
