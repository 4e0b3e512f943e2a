"""Buyer registration (备案) on the networks that need one before a tracking id counts.

- Taobao: the buyer's channel ``relation_id`` from ``taobao.tbk.sc.publisher.info.save`` with the
  source's inviter code, called with the buyer's own Taobao authorisation (``session``).
- Pinduoduo: the pid + ``custom_parameters`` {"uid"} pair, checked with
  ``pdd.ddk.member.authority.query``; while unbound, the buyer is given the 备案 page from
  ``pdd.ddk.rp.prom.url.generate`` (``channel_type`` 10) and the link waits for it.
- JD: ``subUnionId`` on the link, nothing to register.

The network is never called inside a transaction: an intent row is committed first, claimed for a
short lease by a conditional update, the network is called, then the outcome is settled in one
transaction (the link written, the intent closed). A request that dies in between leaves a pending
intent past its lease, which ``resume_registrations`` finishes (both calls are safe to repeat:
Taobao answers the same relation_id again, Pinduoduo's are a query and a page link).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.accounts.models import User
from jishi.core import audit
from jishi.core.errors import Conflict, DomainError

from . import links
from .adapters import NetworkError, http_adapter
from .credentials import decrypt_secret, encrypt_secret
from .models import LinkRegistration, Network, RebateSource, RegistrationState, TrackedLink

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # how long one caller owns an intent while it talks to the network
RESUME_BATCH = 200
RECHECK_AWAITING_FOR = timedelta(days=7)  # PDD buyers offered the 备案 page are re-checked this long
REGISTERED_NETWORKS = {Network.TAOBAO, Network.PDD}


class AuthorizationRequired(Conflict):
    """The buyer must act on the network first: authorise Taobao, or open Pinduoduo's 备案 page."""

    def __init__(self, message: object, code: str, authorize_url: str = "") -> None:
        super().__init__(message, code=code, fields={"authorize_url": [authorize_url]} if authorize_url else None)
        self.authorize_url = authorize_url


def network_unavailable() -> DomainError:
    return DomainError(_("联盟暂时无法连接，请稍后再试"), code="rebate_network_unavailable", status=502)


def in_transaction() -> bool:
    """Inside a transaction of our own (the test case's wrapping ones do not count, as for Django's
    ``durable`` check)."""
    return any(not getattr(block, "_from_testcase", False) for block in transaction.get_connection().atomic_blocks)


def uid_for(user_id: int) -> str:
    return f"jishi{user_id}"


def source_for(network: str) -> RebateSource | None:
    return RebateSource.objects.filter(network=network, enabled=True).order_by("id").first()


def ensure_registered(user: User, network: str, *, taobao_session: str = "") -> TrackedLink:
    found = TrackedLink.objects.filter(user=user, network=network).first()
    if found is not None:
        return found
    if network not in REGISTERED_NETWORKS:
        return links.record_link(user, network)
    source = source_for(network)
    if source is None:
        raise Conflict(_("该联盟暂未开通"), code="rebate_network_unavailable")
    intent = _intent(user, network, source, taobao_session)
    return advance(intent)


def _intent(user: User, network: str, source: RebateSource, taobao_session: str) -> LinkRegistration:
    with transaction.atomic():
        intent, _created = LinkRegistration.objects.get_or_create(
            user=user,
            network=network,
            defaults={"source": source, "state": RegistrationState.PENDING, "uid": uid_for(user.pk)},
        )
    if network == Network.TAOBAO:
        if taobao_session:
            # A fresh authorisation (the old one may be what the network refused): back to pending.
            LinkRegistration.objects.filter(pk=intent.pk).exclude(state=RegistrationState.DONE).update(
                session_encrypted=encrypt_secret(taobao_session), state=RegistrationState.PENDING, source=source
            )
            intent.refresh_from_db()
        elif not intent.session_encrypted:
            message = _("请先在集市 App 中授权淘宝账号，再领券")
            raise AuthorizationRequired(message, code="taobao_authorization_required")
    elif intent.source_id is None:
        LinkRegistration.objects.filter(pk=intent.pk).update(source=source)
        intent.source_id = source.pk
    return intent


def _claim(intent: LinkRegistration, now: datetime) -> bool:
    open_states = [RegistrationState.PENDING, RegistrationState.AWAITING_BUYER, RegistrationState.FAILED]
    return (
        LinkRegistration.objects.filter(pk=intent.pk, state__in=open_states)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + LEASE, attempts=F("attempts") + 1)
        == 1
    )


@dataclass(frozen=True)
class Outcome:
    tracking_id: str = ""  # set when registered
    authorize_url: str = ""  # set when the buyer must open the 备案 page


def _call_network(intent: LinkRegistration, session: requests.Session | None) -> Outcome:
    source = RebateSource.objects.filter(pk=intent.source_id, enabled=True).first() if intent.source_id else None
    if source is None:
        source = source_for(intent.network)
    if source is None:
        raise NetworkError("no_source", "no enabled source for this network")
    try:
        adapter = http_adapter(source, session)
        buyer_session = decrypt_secret(intent.session_encrypted) if intent.session_encrypted else ""
    except ValueError:  # a secret written under another credential key
        raise NetworkError("credentials", "a secret cannot be decrypted with the configured key") from None
    if intent.network == Network.TAOBAO:
        if not buyer_session:
            raise NetworkError("no_session", "the buyer's Taobao authorisation is missing", authorization=True)
        return Outcome(tracking_id=adapter.register_buyer(uid=intent.uid, session=buyer_session))
    if adapter.buyer_registered(intent.uid):
        return Outcome(tracking_id=intent.uid)
    return Outcome(authorize_url=intent.authorize_url or adapter.registration_url(intent.uid))


def advance(
    intent: LinkRegistration, *, now: datetime | None = None, session: requests.Session | None = None
) -> TrackedLink:
    """Claim the intent, ask the network (no transaction open), settle. Raises 409 (in progress;
    the buyer must act: authorise Taobao again, open Pinduoduo's 备案 page; or the network refused
    the shop's own account), 502 (the network did not answer)."""
    if in_transaction():
        raise RuntimeError("a network registration must not run inside a transaction")
    now = now or timezone.now()
    if not _claim(intent, now):
        intent.refresh_from_db()
        if intent.state == RegistrationState.DONE:
            found = TrackedLink.objects.filter(user_id=intent.user_id, network=intent.network).first()
            if found is not None:
                return found
        raise Conflict(_("正在备案，请稍后再试"), code="registration_in_progress")
    try:
        outcome = _call_network(intent, session)
    except NetworkError as exc:
        _failed(intent, exc)
        if exc.authorization:
            message = _("淘宝授权已失效，请重新授权淘宝账号后再领券")
            raise AuthorizationRequired(message, code="taobao_authorization_required") from None
        if exc.transient:
            raise network_unavailable() from None
        # The network refused the shop's own account (inviter code, PID, key, permissions): as with
        # no source at all, the network cannot be used until the operator fixes it (the console
        # shows the network's words on the registration and retries it).
        raise Conflict(_("该联盟暂不可用，请稍后再试"), code="rebate_network_unavailable") from None
    return settle(intent, outcome)


def _failed(intent: LinkRegistration, exc: NetworkError) -> None:
    """Transient: left for the job (pending, or still awaiting the buyer). The buyer's authorisation
    refused: failed, and the refused session forgotten, so only a new one retries. Any other
    refusal (the shop's inviter code, PID or permissions): failed, with the network's words kept
    for the operator, until a new authorisation or the console retries it."""
    state = RegistrationState.PENDING if exc.transient else RegistrationState.FAILED
    if intent.state == RegistrationState.AWAITING_BUYER and exc.transient:
        state = RegistrationState.AWAITING_BUYER
    changes: dict[str, object] = {"state": state, "last_error": f"{exc.code}: {exc.message}"[:300]}
    if exc.authorization:
        changes["session_encrypted"] = ""
    LinkRegistration.objects.filter(pk=intent.pk).update(claimed_until=None, **changes)
    logger.warning("rebate registration %s on %s failed: %s", intent.pk, intent.network, exc.code)


def settle(intent: LinkRegistration, outcome: Outcome) -> TrackedLink:
    if not outcome.tracking_id:
        LinkRegistration.objects.filter(pk=intent.pk).update(
            state=RegistrationState.AWAITING_BUYER, authorize_url=outcome.authorize_url[:500], claimed_until=None
        )
        raise AuthorizationRequired(
            _("请先在拼多多完成授权备案，完成后再领券"),
            code="pdd_registration_required",
            authorize_url=outcome.authorize_url,
        )
    try:
        with transaction.atomic():
            locked = LinkRegistration.objects.select_for_update().get(pk=intent.pk)
            link = links.record_link(locked.user, locked.network, outcome.tracking_id)
            locked.state = RegistrationState.DONE
            locked.external_id = outcome.tracking_id if locked.network == Network.TAOBAO else ""
            locked.session_encrypted = ""  # the buyer's authorisation is not kept once used
            locked.claimed_until = None
            locked.last_error = ""
            locked.save()
    except IntegrityError:
        # The network gave an id another buyer already holds (one Taobao account, two Jishi accounts).
        LinkRegistration.objects.filter(pk=intent.pk).update(
            state=RegistrationState.FAILED, last_error="tracking id held by another buyer", claimed_until=None
        )
        raise Conflict(_("该淘宝账号已绑定其他用户"), code="tracking_id_taken") from None
    return link


def retry_failed(actor: User | None, ids: list[int]) -> int:
    """Operator: failed registrations back to pending, for the job to try again (once the shop's
    inviter code, PID or permissions are fixed). A Taobao one is only retried while it still holds
    the buyer's authorisation; one whose authorisation was refused waits for the buyer."""
    rows = LinkRegistration.objects.filter(pk__in=ids, state=RegistrationState.FAILED).exclude(
        network=Network.TAOBAO, session_encrypted=""
    )
    picked = list(rows.values_list("pk", flat=True))
    count = LinkRegistration.objects.filter(pk__in=picked, state=RegistrationState.FAILED).update(
        state=RegistrationState.PENDING, claimed_until=None, updated_at=timezone.now() - LEASE
    )
    if count:
        audit.record(actor, "rebate.registration.retry", "rebate_registration", ids=picked)
    return count


def resume_registrations(now: datetime | None = None, session: requests.Session | None = None) -> int:
    """Finish intents whose request died (pending past their lease) and re-check Pinduoduo buyers
    who were offered the 备案 page; returns how many became links."""
    now = now or timezone.now()
    idle = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    stale_pending = Q(state=RegistrationState.PENDING, updated_at__lt=now - LEASE)
    awaiting = Q(state=RegistrationState.AWAITING_BUYER, updated_at__gte=now - RECHECK_AWAITING_FOR)
    done = 0
    for intent in LinkRegistration.objects.filter(idle).filter(stale_pending | awaiting).order_by("id")[:RESUME_BATCH]:
        try:
            advance(intent, now=now, session=session)
        except DomainError:
            continue
        done += 1
    return done
