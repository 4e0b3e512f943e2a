from __future__ import annotations

import re
from typing import Any

import pytest

from jishi.accounts.models import AuthToken, User
from jishi.accounts.services import issue_token
from jishi.accounts.sms import ConsoleSmsBackend
from jishi.testing.factories import DEFAULT_PASSWORD, OperatorFactory, UserFactory

pytestmark = pytest.mark.django_db


def last_code(phone: str) -> str:
    for to, text in reversed(ConsoleSmsBackend.outbox):
        if to == phone:
            match = re.search(r"\d{6}", text)
            assert match
            return match.group()
    raise AssertionError("no SMS sent")


def test_buyer_logs_in_by_phone_and_password(api: Any) -> None:
    user = UserFactory()
    response = api.post("auth/login", {"phone": user.phone, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    me = api.get("me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["phone"] == user.phone
    assert me.json()["roles"] == ["buyer"]


def test_operator_logs_in_by_username(api: Any) -> None:
    operator = OperatorFactory()
    response = api.post("auth/login", {"username": operator.username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert response.json()["user_id"] == operator.pk


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "13900000000", "password": "wrong-password"},
        {"username": "nobody", "password": "x"},
    ],
)
def test_wrong_credentials_are_401(api: Any, body: dict[str, str]) -> None:
    UserFactory(phone="13900000000", username="13900000000")
    response = api.post("auth/login", body)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"phone": "123", "password": "x"}, "phone"),
        ({"password": "x"}, "phone"),
        ({"phone": "13900000000"}, "password"),
    ],
)
def test_malformed_login_is_422_with_fields(api: Any, body: dict[str, str], field: str) -> None:
    response = api.post("auth/login", body)
    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]


def test_malformed_json_is_400(api: Any) -> None:
    response = api.post("auth/login", "{not json")
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_sms_login_registers_a_new_phone(api: Any) -> None:
    assert api.post("auth/sms-code", {"phone": "13712345678"}).status_code == 200
    response = api.post("auth/login-sms", {"phone": "13712345678", "code": last_code("13712345678")})
    assert response.status_code == 200
    assert User.objects.get(phone="13712345678").roles.get().role == "buyer"


def test_sms_code_is_single_use_and_wrong_code_fails(api: Any) -> None:
    api.post("auth/sms-code", {"phone": "13712345679"})
    code = last_code("13712345679")
    wrong = "000000" if code != "000000" else "111111"
    assert api.post("auth/login-sms", {"phone": "13712345679", "code": wrong}).status_code == 401
    assert api.post("auth/login-sms", {"phone": "13712345679", "code": code}).status_code == 200
    again = api.post("auth/login-sms", {"phone": "13712345679", "code": code})
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "invalid_code"


def test_sms_is_rate_limited_per_phone(api: Any, frozen_rate_window: float) -> None:
    assert api.post("auth/sms-code", {"phone": "13712340000"}).status_code == 200
    second = api.post("auth/sms-code", {"phone": "13712340000"})
    assert second.status_code == 429
    assert second.json()["error"]["code"] == "rate_limited"


def test_sms_is_rate_limited_per_ip(api: Any, frozen_rate_window: float, settings: Any) -> None:
    settings.JISHI = {**settings.JISHI, "SMS_PER_IP_PER_HOUR": 3}
    codes = [api.post("auth/sms-code", {"phone": f"1371234100{i}"}).status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]


def test_login_attempts_are_rate_limited(api: Any, frozen_rate_window: float, settings: Any) -> None:
    settings.JISHI = {**settings.JISHI, "LOGIN_ATTEMPTS_PER_10_MIN": 3}
    UserFactory(phone="13900000001", username="13900000001")
    codes = [api.post("auth/login", {"phone": "13900000001", "password": "bad"}).status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]


def test_tokens_are_stored_hashed_and_revocable(api: Any) -> None:
    user = UserFactory()
    raw = issue_token(user)
    stored = AuthToken.objects.get(user=user)
    assert raw not in stored.key_hash
    assert len(stored.key_hash) == 64
    headers = {"Authorization": f"Bearer {raw}"}
    assert api.post("auth/logout", headers=headers).status_code == 200
    assert api.get("me", headers=headers).status_code == 401


def test_anonymous_me_is_401(api: Any) -> None:
    response = api.get("me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_register_then_duplicate_phone_is_refused(api: Any) -> None:
    body = {"phone": "13611112222", "password": "long-enough-pw"}
    assert api.post("auth/register", body).status_code == 201
    again = api.post("auth/register", body)
    assert again.status_code == 422
    assert again.json()["error"]["code"] == "phone_taken"


def test_passwords_are_hashed_with_argon2_in_production() -> None:
    from django.conf import settings as django_settings

    from jishi import settings as jishi_settings

    assert jishi_settings.PASSWORD_HASHERS[0] == "jishi.accounts.hashers.Argon2"
    assert django_settings.AUTH_USER_MODEL == "accounts.User"
