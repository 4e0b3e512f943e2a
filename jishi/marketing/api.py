"""REST endpoints (thin: parse, authorise, call a service, serialise)."""

from __future__ import annotations

from ninja import Router

from jishi.accounts.auth import buyer_auth, operator_auth

router = Router(auth=buyer_auth)
admin_router = Router(auth=operator_auth)
