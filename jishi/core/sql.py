"""Small portable SQL helpers (SQLite 3.35+ and PostgreSQL share these statements)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.db.models.query import (  # type: ignore[attr-defined]
    ModelIterable,
    ValuesListIterable,
    get_related_populators,
)
from django.db.models.sql import UpdateQuery
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


def insert_many_once(
    model: type[models.Model],
    rows: Sequence[dict[str, Any]],
    conflict: Sequence[str],
    returning: Sequence[str],
    chunk: int = 500,
) -> list[tuple[Any, ...]]:
    """Several ``insert_once`` in few statements: ``INSERT … VALUES (…), (…) ON CONFLICT DO
    NOTHING RETURNING …``; the ``returning`` columns of the rows that were new (of two
    concurrent inserts of one key exactly one returns it). Every row names the same fields."""
    if not rows:
        return []
    q = connection.ops.quote_name
    fields = {f.name: f for f in model._meta.concrete_fields if not f.primary_key}
    by_attname = {f.attname: f for f in fields.values()}
    names = list(rows[0])
    unknown = [n for n in names if n not in fields and n not in by_attname]
    if unknown:
        raise ValueError(f"unknown fields for {model.__name__}: {sorted(unknown)}")
    chosen = [fields.get(n) or by_attname[n] for n in names]
    implicit = [
        f
        for f in fields.values()
        if f not in chosen and (getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False))
    ]
    columns = [f.column for f in chosen + implicit]
    out_columns = [(fields.get(n) or by_attname[n]).column if n != "id" else "id" for n in returning]
    table = q(model._meta.db_table)
    found: list[tuple[Any, ...]] = []
    now = timezone.now()
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        params: list[Any] = []
        for row in part:
            params.extend(f.get_db_prep_save(row[n], connection) for f, n in zip(chosen, names, strict=True))
            params.extend(f.get_db_prep_save(now, connection) for f in implicit)
        values = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(part))
        sql = (
            f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}) VALUES {values} "  # noqa: S608
            f"ON CONFLICT ({', '.join(q(fields[c].column) for c in conflict)}) "
            f"DO NOTHING RETURNING {', '.join(q(c) for c in out_columns)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found.extend(tuple(r) for r in cursor.fetchall())
    return found


def update_many(
    model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[str], chunk: int = 500
) -> None:
    """Write ``fields`` of several rows in one statement per ``chunk``:
    ``WITH v(id, …) AS (VALUES (…), …) UPDATE t SET f = v.f … FROM v WHERE t.id = v.id``.

    What ``bulk_update`` does without its ``CASE WHEN`` per field and row, which Django takes
    most of a second to build for a page of a hundred orders and PostgreSQL long to plan."""
    if not objs:
        return
    q = connection.ops.quote_name
    meta = model._meta
    assert meta.pk is not None
    chosen: list[Any] = [meta.get_field(name) for name in fields]
    columns: list[Any] = [meta.pk, *chosen]
    cast = connection.vendor == "postgresql"

    def slot(field: Any) -> str:
        return f"%s::{field.cast_db_type(connection)}" if cast else "%s"

    row_sql = "(" + ", ".join(slot(f) for f in columns) + ")"
    names = ", ".join(q(f.column) for f in columns)
    table = q(meta.db_table)
    sets = ", ".join(f"{q(f.column)} = v.{q(f.column)}" for f in chosen)
    unique = list({obj.pk: obj for obj in objs}.values())
    for start in range(0, len(unique), chunk):
        part = unique[start : start + chunk]
        params: list[Any] = []
        for obj in part:
            params.extend(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in columns)
        sql = (
            f"WITH v ({names}) AS (VALUES {', '.join([row_sql] * len(part))}) "  # noqa: S608
            f"UPDATE {table} SET {sets} FROM v WHERE {table}.{q(meta.pk.column)} = v.{q(meta.pk.column)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


# --- queries compiled once ----------------------------------------------------------------

_INT_SENTINEL = -7_346_000_000_000
_DATETIME_SENTINEL = datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC)


class CachedQuery:
    """A read query written with the ORM, compiled to SQL once per process and database.

    Django spends most of a simple query's time writing its SQL (0.3–0.8 ms of CPU against
    0.1–0.2 ms to run it); a request on the hot path runs the same few queries with other
    values. ``build`` receives one stand-in value per parameter and returns the QuerySet;
    each call binds the real values into the SQL kept from the first compilation and builds
    results the way Django would (converters, ``select_related``, annotations).

    Parameters are declared with their kind: ``int``, ``str``, ``datetime`` or ``list``
    (of ints; compiled once per length). Each must appear in the SQL as a parameter, so a
    value the ORM folds into the query text (``LIMIT``, for one) or coerces (a boolean) cannot
    be a parameter: write it as a constant.
    """

    def __init__(self, build: Callable[..., QuerySet[Any]], **kinds: type) -> None:
        self.build = build
        self.kinds = kinds
        self._compiled: dict[tuple[str, tuple[int, ...]], _Compiled] = {}

    def _sentinels(self, lengths: tuple[int, ...]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        list_no = 0
        for index, (name, kind) in enumerate(self.kinds.items()):
            base = _INT_SENTINEL - 1000 * index
            if kind is int:
                values[name] = base
            elif kind is str:
                values[name] = f"\x1bjishi-arg-{index}\x1b"
            elif kind is datetime:
                values[name] = _DATETIME_SENTINEL + timedelta(microseconds=index + 1)
            elif kind is list:
                values[name] = [base - i for i in range(lengths[list_no])]
                list_no += 1
            else:
                raise TypeError(f"CachedQuery parameter {name}: {kind!r} is not int, str, datetime or list")
        return values

    def _statement(self, conn: BaseDatabaseWrapper, sentinels: dict[str, Any]) -> tuple[str, Any, Any]:
        """The SQL and parameters of the query built on ``sentinels``, and what reads its rows."""
        queryset = self.build(**sentinels)
        compiler = queryset.query.get_compiler(connection=conn)
        sql, params = compiler.as_sql()
        return sql, params, self._reader(queryset, compiler)

    def _reader(self, queryset: QuerySet[Any], compiler: Any) -> _Reader:
        iterable = queryset._iterable_class
        if iterable is not ModelIterable and iterable is not ValuesListIterable:
            raise TypeError("CachedQuery supports model querysets and values_list()")
        columns = [column for column, _sql, _alias in compiler.select]
        converters = [
            (position, tuple(funcs), expression)
            for position, (funcs, expression) in compiler.get_converters(columns).items()
        ]
        model: tuple[Any, ...] | None = None
        if iterable is ModelIterable:
            klass_info = compiler.klass_info
            select_fields = klass_info["select_fields"]
            start, end = select_fields[0], select_fields[-1] + 1
            init_list = [column[0].target.attname for column in compiler.select[start:end]]
            model = (
                klass_info["model"],
                start,
                end,
                init_list,
                get_related_populators(klass_info, compiler.select, queryset.db),
                dict(compiler.annotation_col_map or {}),
            )
        return _Reader(converters, model)

    def _compile(self, conn: BaseDatabaseWrapper, lengths: tuple[int, ...]) -> _Compiled:
        sentinels = self._sentinels(lengths)
        sql, params, reader = self._statement(conn, sentinels)
        wanted: dict[Any, tuple[str, int | None]] = {}
        for name, value in sentinels.items():
            if isinstance(value, list):
                for position, item in enumerate(value):
                    wanted[item] = (name, position)
            elif isinstance(value, datetime):
                wanted[conn.ops.adapt_datetimefield_value(value)] = (name, None)
                wanted[value] = (name, None)
            else:
                wanted[value] = (name, None)
        slots: list[tuple[int, str, int | None]] = []
        for index, param in enumerate(params):
            try:
                hit = wanted.get(param)
            except TypeError:  # an unhashable constant
                hit = None
            if hit is not None:
                slots.append((index, *hit))
        missing = set(sentinels) - {name for _i, name, _p in slots}
        if missing:
            raise ValueError(f"CachedQuery parameters not found in the SQL: {sorted(missing)}")
        return _Compiled(sql, list(params), slots, reader)

    def _bind(self, values: dict[str, Any]) -> tuple[_Compiled, list[Any]]:
        if set(values) != set(self.kinds):
            raise TypeError(f"CachedQuery expects {sorted(self.kinds)}, got {sorted(values)}")
        lengths = tuple(len(values[name]) for name, kind in self.kinds.items() if kind is list)
        key = (connection.alias, lengths)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(connection, lengths)
        params = list(compiled.params)
        for index, name, position in compiled.slots:
            value = values[name] if position is None else values[name][position]
            if isinstance(value, datetime):
                value = connection.ops.adapt_datetimefield_value(value)
            params[index] = value
        return compiled, params

    def _run(self, values: dict[str, Any]) -> tuple[_Compiled, list[Any]]:
        compiled, params = self._bind(values)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        converters = compiled.reader.converters if compiled.reader else []
        if converters:
            converted = []
            for row in rows:
                items = list(row)
                for position, funcs, expression in converters:
                    value = items[position]
                    for func in funcs:
                        value = func(value, expression, connection)
                    items[position] = value
                converted.append(tuple(items))
            rows = converted
        return compiled, rows

    def rows(self, **values: Any) -> list[tuple[Any, ...]]:
        """The selected columns of every row (for a ``values_list()`` query)."""
        return self._run(values)[1]

    def objects(self, **values: Any) -> list[Any]:
        """Model instances, as iterating the QuerySet would give."""
        compiled, rows = self._run(values)
        if compiled.reader is None or compiled.reader.model is None:
            raise TypeError("objects() needs a model queryset, not values_list()")
        model, start, end, init_list, populators, annotations = compiled.reader.model
        db = connection.alias
        out = []
        for row in rows:
            obj = model.from_db(db, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in annotations.items():
                setattr(obj, name, row[position])
            out.append(obj)
        return out

    def first(self, **values: Any) -> Any:
        found = self.objects(**values)
        return found[0] if found else None


class CachedUpdate(CachedQuery):
    """An ORM ``update()`` compiled once: ``build`` returns the QuerySet and the new values.

    ``run()`` returns the number of rows changed, so conditional updates read as they do
    with the ORM (``if not query.run(...): raise ...``).
    """

    def __init__(self, build: Callable[..., tuple[QuerySet[Any], dict[str, Any]]], **kinds: type) -> None:
        super().__init__(build, **kinds)  # type: ignore[arg-type]

    def _statement(self, conn: BaseDatabaseWrapper, sentinels: dict[str, Any]) -> tuple[str, Any, Any]:
        queryset, changes = self.build(**sentinels)
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(changes)
        if query.related_updates:
            raise TypeError("CachedUpdate cannot update fields of a parent model")
        sql, params = query.get_compiler(connection=conn).as_sql()
        return sql, params, None

    def run(self, **values: Any) -> int:
        compiled, params = self._bind(values)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            return int(cursor.rowcount)


@dataclass(frozen=True)
class _Reader:
    converters: list[tuple[int, tuple[Any, ...], Any]]
    model: tuple[Any, ...] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: list[Any]
    slots: list[tuple[int, str, int | None]]
    reader: _Reader | None
