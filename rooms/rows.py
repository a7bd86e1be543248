"""Rows read with hand-written SQL, their values converted as the ORM converts them.

Only for the hottest reads (rooms.pages, a send's room and membership, sessions) and
the one hot insert (a sent message), where Django compiling the same query on every
call, more than the database answering it, was most of the work
(docs/performance.md). Each column is named by the model field it holds, and gets the
converters the ORM would apply to that field on this database (SQLite's text to aware
datetimes and UUIDs, a field's from_db_value), so callers see the values a queryset
would give them.
"""

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.db.models.expressions import Col

_Converter = tuple[int, Col, tuple[Callable[..., Any], ...]]
M = TypeVar("M", bound=Model)


@cache
def _converters(fields: tuple[Field, ...], vendor: str) -> tuple[_Converter, ...]:
    """For each column that has any: its index, its column expression and converters.
    `vendor` keys the cache: converters depend on the database."""
    found = []
    for index, field in enumerate(fields):
        column = field.get_col(field.model._meta.db_table)
        functions = tuple(
            connection.ops.get_db_converters(column)
            + column.get_db_converters(connection)
        )
        if functions:
            found.append((index, column, functions))
    return tuple(found)


def _converted(
    row: Sequence[Any],
    converters: tuple[_Converter, ...],
    db: BaseDatabaseWrapper,
) -> list[Any]:
    values = list(row)
    for index, column, functions in converters:
        value = values[index]
        for function in functions:
            value = function(value, column, db)
        values[index] = value
    return values


def _db() -> BaseDatabaseWrapper:
    """The connection `django.db.connection` stands for, looked up once: each
    attribute read through that proxy looks it up again, and a send read dozens."""
    return connections[DEFAULT_DB_ALIAS]


def read(sql: str, params: Sequence[Any], fields: tuple[Field, ...]) -> list[list[Any]]:
    """The statement's rows, each value as the ORM gives it: `fields[i]` is what
    column i holds."""
    db = _db()
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    converters = _converters(fields, db.vendor)
    return [_converted(row, converters, db) for row in found]


def fields_of(model: type[Model]) -> tuple[Field, ...]:
    """Every concrete field of the model: what rows.instance builds from."""
    return tuple(model._meta.concrete_fields)


def columns(alias: str | None, fields: tuple[Field, ...]) -> str:
    """`fields`' columns (of the table aliased `alias`, if given), for a SELECT or
    RETURNING list."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"{prefix}{connection.ops.quote_name(f.column)}" for f in fields)


@cache
def _insert_statement(model: type[Model], vendor: str) -> tuple[str, tuple[Field, ...]]:
    meta = model._meta
    if meta.parents:
        raise TypeError(f"{model.__name__} spans tables: save() it instead.")
    fields = tuple(
        f for f in meta.concrete_fields if f is not meta.pk and not f.generated
    )
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({names})"
        f" VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {quote(meta.pk.column)}"
    )
    return sql, fields


def insert(obj: Model) -> None:
    """Saves a new instance (one table, an automatic primary key, no save() of its
    own, no signals) with one INSERT ... RETURNING: each value is prepared by its
    field as save() would (pre_save for auto_now_add, get_db_prep_save), and `obj`
    gets its primary key and is saved, as after save()."""
    db = _db()
    sql, fields = _insert_statement(type(obj), db.vendor)
    values = [f.get_db_prep_save(f.pre_save(obj, add=True), db) for f in fields]
    with db.cursor() as cursor:
        cursor.execute(sql, values)
        (obj.pk,) = cursor.fetchone()
    obj._state.adding = False
    obj._state.db = DEFAULT_DB_ALIAS


def instance(model: type[M], values: Sequence[Any]) -> M:
    """A model instance, as loaded from the database, from read values of every one
    of its concrete fields (fields_of(model)), in that order."""
    return model.from_db(DEFAULT_DB_ALIAS, _attnames(model), values)


@cache
def _attnames(model: type[Model]) -> tuple[str, ...]:
    return tuple(f.attname for f in fields_of(model))
