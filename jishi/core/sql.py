"""Small portable SQL helpers (SQLite 3.35+ and PostgreSQL share these statements)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models


def insert_once(model: type[models.Model], values: dict[str, Any], conflict: Sequence[str]) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the new id, or None when it existed.

    One statement, race-free: of two concurrent inserts exactly one gets an id.
    """
    q = connection.ops.quote_name
    columns = [model._meta.get_field(name).column for name in values]
    table = q(model._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({', '.join(q(model._meta.get_field(c).column) for c in conflict)}) "
        "DO NOTHING RETURNING id"
    )
    params = []
    for name, value in values.items():
        field = model._meta.get_field(name)
        params.append(field.get_db_prep_save(value, connection))  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return int(row[0]) if row else None
