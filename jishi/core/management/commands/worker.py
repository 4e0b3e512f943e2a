"""``jishi worker``: the Huey consumer, refusing to start with unsafe production settings."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError
from huey.contrib.djhuey.management.commands.run_huey import Command as RunHuey

from jishi.core.checks import refuse_unsafe_production


class Command(RunHuey):
    help = "Run the Huey consumer (event delivery, scheduled jobs)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            refuse_unsafe_production()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        super().handle(*args, **options)
