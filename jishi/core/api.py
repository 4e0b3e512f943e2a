"""Shared API pieces: error schema and responses, pagination limits."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any

from ninja import Field, Path, Schema
from pydantic import AfterValidator

from jishi.core.conf import setting

from .errors import InvalidInput


def _wall_clock(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("a local time of day, without a UTC offset")
    return value


# A time of day on the shop's clock (opening hours, delivery slots): "18:00", never "18:00+08:00".
LocalTime = Annotated[time, AfterValidator(_wall_clock)]


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, list[str]]


class ErrorOut(Schema):
    error: ErrorDetail


ERROR_CODES = frozenset({400, 401, 403, 404, 409, 422, 429})
ERRORS: dict[Any, Any] = {ERROR_CODES: ErrorOut}


def responses(ok: Any, status: int = 200, *, provider: bool = False) -> dict[Any, Any]:
    """A Ninja ``response=`` mapping: the success schema plus every documented error.

    ``provider``: the operation calls a payment provider, which may be unreachable (502).
    """
    if provider:
        return {status: ok, **ERRORS, 502: ErrorOut}
    return {status: ok, **ERRORS}


class OkOut(Schema):
    ok: bool = True


def page_bounds(limit: int | None, offset: int | None) -> tuple[int, int]:
    max_size = setting("API_MAX_PAGE_SIZE")
    limit = 20 if limit is None else limit
    offset = 0 if offset is None else offset
    if limit < 1 or limit > max_size:
        raise InvalidInput(fields={"limit": [f"1..{max_size}"]})
    if offset < 0 or offset > MAX_OFFSET:
        raise InvalidInput(fields={"offset": [f"0..{MAX_OFFSET}"]})
    return limit, offset


# Every integer the API accepts is bounded in its schema, so that the OpenAPI document says what
# validation enforces and no value reaches the database outside its 64-bit range (SQLite raises
# OverflowError, PostgreSQL a datatype error). tests/test_api_schema.py holds every operation to it.
INT64_MAX = 2**63 - 1
MAX_OFFSET = 10**6
MAX_SORT = 10**6

# A path id: anything outside a 64-bit key is a 422, never a database overflow.
ObjectId = Annotated[int, Path(ge=1, le=INT64_MAX)]
# An id in a body or query (and each entry of a list of ids).
Id = Annotated[int, Field(ge=1, le=INT64_MAX)]
PageLimit = Annotated[int, Field(ge=1, le=setting("API_MAX_PAGE_SIZE"))]
PageOffset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]
BasisPoints = Annotated[int, Field(ge=0, le=10_000)]
SortOrder = Annotated[int, Field(ge=-MAX_SORT, le=MAX_SORT)]
