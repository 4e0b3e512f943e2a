"""Which constraint an IntegrityError broke, by name, the same on PostgreSQL and SQLite.

Callers that expect one clash (an order number drawn twice, a second "once per person" row)
compare the name instead of searching the error text, so an unrelated violation in the same
statement (a NOT NULL, another unique column) is never mistaken for the expected one.

Names are the model's own: a ``UniqueConstraint`` or ``CheckConstraint`` in ``Meta``
answers its ``name``; a field's ``unique=True`` answers ``<db_table>_<column>_key``
(PostgreSQL's name for a column created unique), whichever database and however the
constraint was added. ``unique_field_constraint`` gives that name for a model field.
"""

from __future__ import annotations

import re

from django.apps import apps
from django.db import IntegrityError, models

# SQLite: "UNIQUE constraint failed: orders_order.number" (several columns: ", "-separated).
_SQLITE_UNIQUE = re.compile(r"^UNIQUE constraint failed: (.+)$")
_SQLITE_CHECK = re.compile(r"^CHECK constraint failed: (.+)$")
# PostgreSQL's detail of a unique violation: 'Key (user_id, sku_id)=(3, 9) already exists.'
_PG_KEY = re.compile(r"^Key \((.+?)\)=")


def violated_constraint(exc: IntegrityError) -> str | None:
    """The name of the constraint ``exc`` reports, or None (NOT NULL, foreign key, unknown)."""
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    if diag is not None:
        return _postgres_name(diag)
    message = str(cause or exc).strip()
    found = _SQLITE_CHECK.match(message)
    if found:
        return found.group(1)
    found = _SQLITE_UNIQUE.match(message)
    if not found:
        return None
    index = re.match(r"^index '(.+)'$", found.group(1))  # a unique index on expressions
    if index:
        return index.group(1)
    table_columns = [part.strip().rsplit(".", 1) for part in found.group(1).split(",")]
    tables = {table for table, _column in table_columns}
    if len(tables) != 1:
        return None
    return _unique_name(tables.pop(), [column for _table, column in table_columns])


def unique_field_constraint(model: type[models.Model], field_name: str) -> str:
    """The name ``violated_constraint`` gives a clash on ``model.field_name`` (``unique=True``)."""
    field = model._meta.get_field(field_name)
    if not getattr(field, "unique", False):
        raise ValueError(f"{model.__name__}.{field_name} is not unique")
    return f"{model._meta.db_table}_{field.column}_key"  # type: ignore[union-attr]


def _postgres_name(diag: object) -> str | None:
    name = getattr(diag, "constraint_name", None)
    table = getattr(diag, "table_name", None)
    if not name or not table:
        return name or None
    model = _model_for_table(table)
    if model is None or name in {c.name for c in model._meta.constraints}:
        return str(name)
    # Not declared in Meta: a field's unique=True, named by however it was created.
    found = _PG_KEY.match(getattr(diag, "message_detail", None) or "")
    if found:
        columns = [column.strip().strip('"') for column in found.group(1).split(",")]
        return _unique_name(table, columns) or str(name)
    return str(name)


def _unique_name(table: str, columns: list[str]) -> str | None:
    model = _model_for_table(table)
    if model is None:
        return None
    wanted = set(columns)
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
            names = {model._meta.get_field(f).column for f in constraint.fields}  # type: ignore[union-attr]
            if names == wanted:
                return constraint.name
    if len(columns) == 1:
        for field in model._meta.concrete_fields:
            if field.column == columns[0] and field.unique and not field.primary_key:
                return unique_field_constraint(model, field.name)
    return None


def _model_for_table(table: str) -> type[models.Model] | None:
    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table == table:
            return model
    return None
