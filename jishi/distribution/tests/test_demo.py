from __future__ import annotations

import io

import pytest

from jishi.commission.models import Commission, Withdrawal
from jishi.core.ledger import check_ledger
from jishi.demo.seed import FRESH_PHONES, STEPS, Progress
from jishi.distribution import services
from jishi.distribution.demo import STEPS as DISTRIBUTION_STEPS
from jishi.distribution.models import Binding, DistributionSettings, Promoter
from jishi.payments.demo import STEPS as PAYMENT_STEPS

pytestmark = pytest.mark.django_db


def run(steps: list) -> None:
    out = io.StringIO()
    for index, (name, step) in enumerate(steps, 1):
        step(Progress(out, index, len(steps), name))


def test_demo_chain_is_seeded_once_and_leaves_fresh_buyers_alone() -> None:
    wallets_only = [s for s in PAYMENT_STEPS if "wallet" in s[0]]
    run([*STEPS, *wallets_only, *DISTRIBUTION_STEPS])
    counts = (Promoter.objects.count(), Binding.objects.count(), Commission.objects.count(), Withdrawal.objects.count())
    assert counts[0] == 3
    assert counts[1] == 5
    # DESIGN's default is 2 levels and the demo runs the default: orders pay both levels, none a third
    assert services.get_settings(fresh=True).levels == DistributionSettings._meta.get_field("levels").default == 2
    assert set(Commission.objects.values_list("level", flat=True)) == {1, 2}
    assert set(Commission.objects.values_list("status", flat=True)) == {"frozen", "available"}
    assert Withdrawal.objects.get().status == "pending"
    run(DISTRIBUTION_STEPS)
    assert (
        Promoter.objects.count(),
        Binding.objects.count(),
        Commission.objects.count(),
        Withdrawal.objects.count(),
    ) == counts
    assert not Binding.objects.filter(buyer__phone__in=FRESH_PHONES).exists()
    assert not Commission.objects.filter(beneficiary__phone__in=FRESH_PHONES).exists()
    assert check_ledger() == []
