"""Every change to people: registration, login, tokens, SMS codes, roles and addresses."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jishi.core import geocoding, ratelimit
from jishi.core.conf import setting
from jishi.core.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from jishi.core.sql import CachedQuery

from .models import Address, AuthToken, Role, SmsCode, User, UserRole
from .sms import get_backend

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
STAFF_ROLES = {Role.OPERATOR, Role.ADMIN}


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalise_phone(phone: str) -> str:
    phone = (phone or "").strip().replace(" ", "").removeprefix("+86")
    if not PHONE_RE.match(phone):
        raise InvalidInput(_("手机号格式不正确"), fields={"phone": [str(_("手机号格式不正确"))]})
    return phone


def register_buyer(phone: str, password: str | None = None, nickname: str = "") -> User:
    phone = normalise_phone(phone)
    try:
        with transaction.atomic():
            user = User(username=phone, phone=phone, nickname=nickname or f"用户{phone[-4:]}")
            if password:
                user.set_password(password)
            else:
                user.set_unusable_password()
            user.save()
            UserRole.objects.create(user=user, role=Role.BUYER)
    except IntegrityError as exc:
        raise InvalidInput(
            _("该手机号已注册"), code="phone_taken", fields={"phone": [str(_("该手机号已注册"))]}
        ) from exc
    return user


def grant_role(user: User, role: str) -> None:
    UserRole.objects.get_or_create(user=user, role=role)
    user.__dict__.pop("_jishi_roles", None)


def revoke_role(user: User, role: str) -> None:
    UserRole.objects.filter(user=user, role=role).delete()
    user.__dict__.pop("_jishi_roles", None)


def roles_of(user: User) -> set[str]:
    cached = getattr(user, "_jishi_roles", None)
    if cached is None:
        cached = set(UserRole.objects.filter(user=user).values_list("role", flat=True))
        if user.is_superuser:
            cached.add(Role.ADMIN)
        user._jishi_roles = cached  # type: ignore[attr-defined]
    return cached


def has_role(user: Any, *roles: str) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    mine = roles_of(user)
    # admin implies every role an operator may act in
    return bool(mine & set(roles)) or Role.ADMIN in mine


def require_role(user: Any, *roles: str) -> None:
    if not has_role(user, *roles):
        raise Forbidden()


def issue_token(user: User, name: str = "api") -> str:
    raw = secrets.token_urlsafe(32)
    AuthToken.objects.create(
        user=user,
        key_hash=_hash(raw),
        name=name,
        expires_at=timezone.now() + timedelta(days=setting("TOKEN_TTL_DAYS")),
    )
    return raw


# Every API request runs this: compiled once (see CachedQuery), it costs a third of the ORM query.
_TOKEN_USER = CachedQuery(
    lambda key_hash, now: User.objects.filter(
        tokens__key_hash=key_hash,
        tokens__revoked_at__isnull=True,
        tokens__expires_at__gt=now,
        is_active=True,
    )[:1],
    key_hash=str,
    now=datetime,
)


def user_for_token(raw: str) -> User | None:
    user: User | None = _TOKEN_USER.first(key_hash=_hash(raw), now=timezone.now())
    return user


def revoke_token(raw: str) -> None:
    AuthToken.objects.filter(key_hash=_hash(raw), revoked_at__isnull=True).update(revoked_at=timezone.now())


def revoke_all_tokens(user: User) -> int:
    return AuthToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


def _login_rate_check(identity: str, ip: str) -> None:
    limit = setting("LOGIN_ATTEMPTS_PER_10_MIN")
    ratelimit.check(f"login:id:{identity}", limit, 600)
    ratelimit.check(f"login:ip:{ip}", limit * 5, 600)


def login_with_password(*, phone: str | None, username: str | None, password: str, ip: str) -> User:
    if phone:
        identity = normalise_phone(phone)
        user = User.objects.filter(phone=identity).first()
        login_name = user.username if user else identity
    elif username:
        identity = username.strip()
        login_name = identity
    else:
        raise InvalidInput(fields={"phone": [str(_("请输入手机号或用户名"))]})
    _login_rate_check(identity, ip)
    authed = authenticate(username=login_name, password=password)
    if authed is None or not isinstance(authed, User):
        raise Unauthorized(_("账号或密码错误"), code="invalid_credentials")
    return authed


def send_sms_code(phone: str, ip: str) -> None:
    phone = normalise_phone(phone)
    ratelimit.check(f"sms:phone:{phone}", setting("SMS_PER_PHONE_PER_MINUTE"), 60)
    ratelimit.check(f"sms:phone-day:{phone}", setting("SMS_PER_PHONE_PER_DAY"), 86400)
    ratelimit.check(f"sms:ip:{ip}", setting("SMS_PER_IP_PER_HOUR"), 3600)
    code = f"{secrets.randbelow(1_000_000):06d}"
    SmsCode.objects.create(
        phone=phone,
        code_hash=_hash(f"{phone}:{code}"),
        expires_at=timezone.now() + timedelta(seconds=setting("SMS_CODE_TTL_SECONDS")),
    )
    get_backend().send(phone, f"【集市】验证码 {code}，5 分钟内有效。")


def login_with_sms(phone: str, code: str, ip: str) -> User:
    """Verify the newest code for ``phone``; a new phone is registered on the spot."""
    phone = normalise_phone(phone)
    ratelimit.check(f"sms-login:ip:{ip}", 60, 600)
    with transaction.atomic():
        sms = (
            SmsCode.objects.select_for_update()
            .filter(phone=phone, used_at__isnull=True, expires_at__gt=timezone.now())
            .order_by("-id")
            .first()
        )
        if sms is None or sms.attempts >= 5:
            raise Unauthorized(_("验证码无效或已过期"), code="invalid_code")
        if not hmac.compare_digest(sms.code_hash, _hash(f"{phone}:{code.strip()}")):
            SmsCode.objects.filter(pk=sms.pk).update(attempts=sms.attempts + 1)
            raise Unauthorized(_("验证码无效或已过期"), code="invalid_code")
        sms.used_at = timezone.now()
        sms.save(update_fields=["used_at"])
    user = User.objects.filter(phone=phone).first()
    if user is None:
        user = register_buyer(phone)
    if not user.is_active:
        raise Unauthorized(_("账号已停用"), code="inactive")
    return user


ADDRESS_FIELDS = (
    "contact",
    "phone",
    "province",
    "city",
    "district",
    "detail",
    "latitude",
    "longitude",
    "is_default",
)


TEXT_FIELDS = ("province", "city", "district", "detail")


def _address_query(values: dict[str, Any]) -> geocoding.AddressQuery:
    return geocoding.AddressQuery(*(str(values.get(name) or "") for name in TEXT_FIELDS))


def _point_to_save(user: User, data: dict[str, Any], address_id: int | None) -> tuple[bool, float | None, float | None]:
    """(change the point?, latitude, longitude) for ``save_address``, geocoding when the text is
    new and no point came with it. Runs before the write transaction: the geocoder is remote."""
    if data.get("latitude") is not None and data.get("longitude") is not None:
        return True, float(data["latitude"]), float(data["longitude"])
    current: dict[str, Any] = {}
    if address_id is not None:
        current = Address.objects.filter(user=user, pk=address_id).values(*TEXT_FIELDS, "latitude").first() or {}
    merged = {name: data.get(name) if data.get(name) is not None else current.get(name) for name in TEXT_FIELDS}
    if current and current.get("latitude") is not None and all(merged[n] == current[n] for n in TEXT_FIELDS):
        return False, None, None  # the same address as before keeps its point
    if not all(merged.values()):
        return False, None, None
    try:
        point = geocoding.geocode(_address_query(merged))
    except (geocoding.AddressNotLocated, geocoding.GeocoderUnavailable):
        # Saved without a point: express still reaches it, and a store delivery asks again
        # (``locate_address``), where the buyer is told why.
        return True, None, None
    return True, point.latitude, point.longitude


def save_address(user: User, data: dict[str, Any], address_id: int | None = None) -> Address:
    """Create or change an address. One given without a point is geocoded first (outside the
    transaction); a changed address without a point drops its old one."""
    set_point, lat, lng = _point_to_save(user, data, address_id)
    with transaction.atomic():
        if address_id is None:
            address = Address(user=user)
        else:
            address = get_address(user, address_id, for_update=True)
        for name in ADDRESS_FIELDS:
            if name in data and data[name] is not None:
                setattr(address, name, data[name])
        if set_point:
            address.latitude, address.longitude = lat, lng
        if not Address.objects.filter(user=user).exists():
            address.is_default = True
        address.save()
        if address.is_default:
            Address.objects.filter(user=user, is_default=True).exclude(pk=address.pk).update(is_default=False)
    return address


def locate_address(user: User, address_id: int) -> Address:
    """The buyer's address with its point, geocoding it now if it has none (a store delivery
    needs one). Raises NotFound, AddressNotLocated (422) or GeocoderUnavailable (502).

    The geocoder is called outside any transaction; the point is then written only if the
    address still reads as it did, so an edit made meanwhile is never given a stale point."""
    address = get_address(user, address_id)
    if address.latitude is not None and address.longitude is not None:
        return address
    text = {name: getattr(address, name) for name in TEXT_FIELDS}
    point = geocoding.geocode(_address_query(text))
    Address.objects.filter(pk=address.pk, user=user, latitude__isnull=True, **text).update(
        latitude=point.latitude, longitude=point.longitude
    )
    address.refresh_from_db()
    if address.latitude is None or address.longitude is None:
        raise geocoding.AddressNotLocated(fields={"address_id": [str(address_id)]})
    return address


def get_address(user: User, address_id: int, *, for_update: bool = False) -> Address:
    rows = Address.objects.filter(user=user, pk=address_id)
    if for_update:
        rows = rows.select_for_update()
    address = rows.first()
    if address is None:
        raise NotFound()
    return address


def delete_address(user: User, address_id: int) -> None:
    get_address(user, address_id).delete()


def default_address_id(user: User) -> int | None:
    """The buyer's default address (else the newest), or None when they have none."""
    found = Address.objects.filter(user=user).order_by("-is_default", "-id").values_list("pk", flat=True).first()
    return int(found) if found is not None else None
