"""Commission jobs: unfreeze what is due."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import services


@db_periodic_task(crontab(minute="*/10"))
def unfreeze_due_commissions() -> int:
    return services.unfreeze_due()
