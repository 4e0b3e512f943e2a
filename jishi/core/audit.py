"""Audit trail for operator actions on money and stock."""

from __future__ import annotations

from typing import Any

from .models import AuditLog


def record(actor: Any, action: str, target: str, **data: Any) -> AuditLog:
    actor_id = getattr(actor, "pk", None)
    return AuditLog.objects.create(actor_id=actor_id, action=action, target=target, data=data)
