"""A deliberately non-idempotent handler for the consumer kill test.

Each run posts a ledger transaction under a fresh random key, so if the handler were
ever applied twice to one event the account balance would show it.
"""

from __future__ import annotations

import time
import uuid

from jishi.core import ledger
from jishi.core.events import subscribe
from jishi.core.models import AccountKind, OutboxEvent

EVENT = "test.kill"
HANDLER = "tests.kill-counter"


@subscribe(EVENT, name=HANDLER)
def count_event(event: OutboxEvent) -> None:
    ledger.transfer(
        kind="test",
        key=f"kill:{uuid.uuid4()}",
        amount=1,
        source=ledger.platform_account(AccountKind.PLATFORM_EXPENSE),
        target=ledger.platform_account(AccountKind.PLATFORM_BUDGET, "kill-test"),
    )
    time.sleep(float(event.payload.get("sleep", 0)))
