"""Small portable SQL helpers (SQLite 3.35+ and PostgreSQL share these statements)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone


def insert_once(model: type[models.Model], values: dict[str, Any], conflict: Sequence[str]) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the new id, or None when it existed.

    One statement, race-free: of two concurrent inserts exactly one gets an id. Fields not
    given take their model default (``auto_now``/``auto_now_add`` fields take the time now).
    """
    q = connection.ops.quote_name
    row: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        key = field.name if field.name in values else field.attname
        fields[field.name] = field
        if key in values:
            row[field.name] = values[key]
        elif getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
            row[field.name] = timezone.now()
        else:
            row[field.name] = field.get_default()
    unknown = set(values) - set(row) - {f.attname for f in fields.values()}
    if unknown:
        raise ValueError(f"unknown fields for {model.__name__}: {sorted(unknown)}")
    columns = [fields[name].column for name in row]
    table = q(model._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({', '.join(q(fields[c].column) for c in conflict)}) "
        "DO NOTHING RETURNING id"
    )
    params = [fields[name].get_db_prep_save(value, connection) for name, value in row.items()]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    return int(found[0]) if found else None
