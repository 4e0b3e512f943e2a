"""API authentication: hashed bearer tokens, with role gates for the console API."""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from ninja.security import HttpBearer

from .models import Role, User
from .services import has_role, user_for_token


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class RoleAuth(TokenAuth):
    """A token whose user holds one of ``roles`` (admin holds them all)."""

    def __init__(self, *roles: str) -> None:
        super().__init__()
        self.roles = roles

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = super().authenticate(request, token)
        if user is None:
            return None
        if not has_role(user, *self.roles):
            from ninja.errors import AuthorizationError

            raise AuthorizationError()
        return user


def current_user(request: HttpRequest) -> User:
    """The user an authenticated endpoint runs for."""
    return cast(User, request.auth)  # type: ignore[attr-defined]


buyer_auth = TokenAuth()
operator_auth = RoleAuth(Role.OPERATOR)
