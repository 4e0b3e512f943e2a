"""Network accounts: created and changed here; the secret goes in encrypted and never comes out
except to sign a request (``adapters``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import User
from jishi.core import audit
from jishi.core.errors import InvalidInput, NotFound

from .credentials import encrypt_secret
from .models import Network, RebateSource

EDITABLE = (
    "name",
    "app_key",
    "pid",
    "endpoint",
    "enabled",
    "promotion_mode",
    "inviter_code",
    "oauth_url",
    "goods_keywords",
)


def _check(data: dict[str, Any], *, creating: bool) -> None:
    problems: dict[str, list[str]] = {}
    if creating and data.get("network") not in Network.values:
        problems["network"] = [str(data.get("network"))]
    for name in ("name", "app_key", "endpoint") if creating else ():
        if not str(data.get(name) or "").strip():
            problems[name] = ["required"]
    if creating and not str(data.get("secret") or ""):
        problems["secret"] = ["required"]
    for name in ("endpoint", "oauth_url"):
        url = str(data.get(name) or "")
        if url and not url.startswith(("http://", "https://")):
            problems[name] = ["http(s) URL"]
    if problems:
        raise InvalidInput(_("联盟账号信息有误"), code="invalid_source", fields=problems)


def create_source(actor: User | None, data: dict[str, Any]) -> RebateSource:
    _check(data, creating=True)
    with transaction.atomic():
        source = RebateSource.objects.create(
            network=data["network"],
            secret_encrypted=encrypt_secret(str(data["secret"])),
            **{k: data[k] for k in EDITABLE if k in data and data[k] is not None},
        )
        audit.record(actor, "rebate.source.create", f"rebate_source:{source.pk}", network=source.network)
    return source


def update_source(actor: User | None, source_id: int, data: dict[str, Any]) -> RebateSource:
    _check(data, creating=False)
    with transaction.atomic():
        source = RebateSource.objects.select_for_update().filter(pk=source_id).first()
        if source is None:
            raise NotFound()
        changed = [k for k in EDITABLE if data.get(k) is not None]
        for name in changed:
            setattr(source, name, data[name])
        if data.get("secret"):
            source.secret_encrypted = encrypt_secret(str(data["secret"]))
            changed.append("secret")  # that it changed, never its value
        source.save()
        audit.record(actor, "rebate.source.update", f"rebate_source:{source.pk}", fields=changed)
    return source
