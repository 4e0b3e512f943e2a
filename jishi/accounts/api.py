"""Auth, me and address endpoints (thin: parse, authorise, call a service, serialise)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from jishi.core.api import ObjectId, OkOut, responses

from . import services
from .auth import buyer_auth, current_user, operator_auth
from .models import Role

router = Router()  # /auth
me_router = Router(auth=buyer_auth)  # /me, /addresses
admin_router = Router(auth=operator_auth)


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


# What normalise_phone accepts: a mainland mobile number, spaces anywhere, an optional +86.
PHONE_PATTERN = r"^\s*(\+ *8 *6)? *1 *[3-9]( *[0-9]){9}\s*$"


class LoginIn(Schema):
    """A phone number or a user name, and the password."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [{"required": [name], "properties": {name: {"type": "string"}}} for name in ("phone", "username")]
        },
    )

    phone: str | None = Field(None, max_length=20, pattern=PHONE_PATTERN)
    username: str | None = Field(None, min_length=1, max_length=150)
    password: str = Field(..., min_length=1, max_length=128)


class TokenOut(Schema):
    token: str
    user_id: int


class SmsCodeIn(Schema):
    phone: str = Field(..., max_length=20, pattern=PHONE_PATTERN)


class SmsLoginIn(Schema):
    phone: str = Field(..., max_length=20, pattern=PHONE_PATTERN)
    code: str = Field(..., min_length=4, max_length=8)


class RegisterIn(Schema):
    phone: str = Field(..., max_length=20, pattern=PHONE_PATTERN)
    password: str = Field(..., min_length=8, max_length=128)
    nickname: str = Field("", max_length=64)


@router.post("/login", response=responses(TokenOut), auth=None)
def login(request: HttpRequest, payload: LoginIn) -> Any:
    user = services.login_with_password(
        phone=payload.phone,
        username=payload.username,
        password=payload.password,
        ip=client_ip(request),
    )
    return {"token": services.issue_token(user), "user_id": user.pk}


@router.post("/sms-code", response=responses(OkOut), auth=None)
def sms_code(request: HttpRequest, payload: SmsCodeIn) -> Any:
    services.send_sms_code(payload.phone, client_ip(request))
    return {"ok": True}


@router.post("/login-sms", response=responses(TokenOut), auth=None)
def login_sms(request: HttpRequest, payload: SmsLoginIn) -> Any:
    user = services.login_with_sms(payload.phone, payload.code, client_ip(request))
    return {"token": services.issue_token(user), "user_id": user.pk}


@router.post("/register", response=responses(TokenOut, 201), auth=None)
def register(request: HttpRequest, payload: RegisterIn) -> Any:
    user = services.register_buyer(payload.phone, payload.password, payload.nickname)
    return Status(201, {"token": services.issue_token(user), "user_id": user.pk})


@router.post("/logout", response=responses(OkOut), auth=buyer_auth)
def logout(request: HttpRequest) -> Any:
    header = request.headers.get("Authorization", "")
    services.revoke_token(header.split(" ", 1)[-1].strip())
    return {"ok": True}


class ProfileOut(Schema):
    id: int
    phone: str | None
    username: str
    nickname: str
    roles: list[str]


@me_router.get("/me", response=responses(ProfileOut))
def me(request: HttpRequest) -> Any:
    user = current_user(request)
    return {
        "id": user.pk,
        "phone": user.phone,
        "username": user.username,
        "nickname": user.nickname,
        "roles": sorted(services.roles_of(user)),
    }


class AddressIn(Schema):
    contact: str = Field(..., min_length=1, max_length=32)
    phone: str = Field(..., min_length=5, max_length=20)
    province: str = Field(..., min_length=1, max_length=32)
    city: str = Field(..., min_length=1, max_length=32)
    district: str = Field(..., min_length=1, max_length=32)
    detail: str = Field(..., min_length=1, max_length=200)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    is_default: bool = False


class AddressOut(Schema):
    id: int
    contact: str
    phone: str
    province: str
    city: str
    district: str
    detail: str
    latitude: float | None
    longitude: float | None
    is_default: bool


@me_router.get("/addresses", response=responses(list[AddressOut]))
def list_addresses(request: HttpRequest) -> Any:
    return list(current_user(request).addresses.all())


@me_router.post("/addresses", response=responses(AddressOut, 201))
def create_address(request: HttpRequest, payload: AddressIn) -> Any:
    return Status(201, services.save_address(current_user(request), payload.dict()))


@me_router.get("/addresses/{address_id}", response=responses(AddressOut))
def get_address(request: HttpRequest, address_id: ObjectId) -> Any:
    return services.get_address(current_user(request), address_id)


@me_router.put("/addresses/{address_id}", response=responses(AddressOut))
def update_address(request: HttpRequest, address_id: ObjectId, payload: AddressIn) -> Any:
    return services.save_address(current_user(request), payload.dict(), address_id)


@me_router.delete("/addresses/{address_id}", response=responses(OkOut))
def delete_address(request: HttpRequest, address_id: ObjectId) -> Any:
    services.delete_address(current_user(request), address_id)
    return {"ok": True}


class RoleIn(Schema):
    role: Role


@admin_router.post("/users/{user_id}/roles", response=responses(ProfileOut))
def grant_role(request: HttpRequest, user_id: ObjectId, payload: RoleIn) -> Any:
    from jishi.core.errors import NotFound

    from .models import User

    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound()
    services.require_role(current_user(request), Role.ADMIN)  # only admins hand out roles
    services.grant_role(user, payload.role)
    return {
        "id": user.pk,
        "phone": user.phone,
        "username": user.username,
        "nickname": user.nickname,
        "roles": sorted(services.roles_of(user)),
    }
