"""Split rules per network: the buyer's 自购 and the promoter's 分享 shares, never above 100% together."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import User
from jishi.core import audit
from jishi.core.conf import setting
from jishi.core.errors import InvalidInput
from jishi.core.money import BP_DENOMINATOR

from .models import Network, RebateSplit


def split_for(network: str) -> RebateSplit:
    """The network's rule, or the defaults (settings ``REBATE_BUYER_BP`` / ``REBATE_PROMOTER_BP``)."""
    row = RebateSplit.objects.filter(network=network).first()
    if row is not None:
        return row
    return RebateSplit(network=network, buyer_bp=setting("REBATE_BUYER_BP"), promoter_bp=setting("REBATE_PROMOTER_BP"))


def update_split(actor: User | None, network: str, buyer_bp: int, promoter_bp: int) -> RebateSplit:
    if network not in Network.values:
        raise InvalidInput(code="invalid_network", fields={"network": [network]})
    problems: dict[str, list[str]] = {}
    for name, value in (("buyer_bp", buyer_bp), ("promoter_bp", promoter_bp)):
        if not 0 <= value <= BP_DENOMINATOR:
            problems[name] = [str(value)]
    if not problems and buyer_bp + promoter_bp > BP_DENOMINATOR:
        problems = {"buyer_bp": [str(buyer_bp)], "promoter_bp": [str(promoter_bp)]}
    if problems:
        raise InvalidInput(_("返佣比例合计不能超过 100%"), code="split_over_100", fields=problems)
    row, _created = RebateSplit.objects.update_or_create(
        network=network, defaults={"buyer_bp": buyer_bp, "promoter_bp": promoter_bp}
    )
    audit.record(actor, "rebate.split", f"rebate_split:{network}", buyer_bp=buyer_bp, promoter_bp=promoter_bp)
    return row


def all_splits() -> list[RebateSplit]:
    return [split_for(network) for network in Network.values]
