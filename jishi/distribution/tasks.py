"""Distribution jobs: promoter level upgrades."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import services


@db_periodic_task(crontab(hour="3", minute="30"))
def evaluate_promoter_levels() -> int:
    return services.evaluate_levels()
