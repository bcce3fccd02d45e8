"""Bulk writing: executemany on SQLite, COPY on PostgreSQL, values prepared by Django.

Each value goes through the backend's own adaptation (the step get_db_prep_save ends
in), so a datetime, a date or a JSON value is stored exactly as the ORM, and so the
services, would store it. For rows nothing refers to by id (contact points, tag links,
timeline entries): an import's batch, the bench's million records.
"""

import functools
import gc
import operator
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.core.management.color import no_style
from django.db import connection, models

PREPARED = (models.DateField, models.DecimalField)


class Table:
    """One model's table: rows given as {attname: value}, missing ones take the default.
    Without `with_id`, the database numbers the rows itself."""

    def __init__(self, model: type[models.Model], *, with_id: bool = True):
        fields = [
            field
            for field in model._meta.concrete_fields
            if with_id or not (field.primary_key and isinstance(field, models.AutoField))
        ]
        self.name = model._meta.db_table
        self.columns = [field.column for field in fields]
        self.attnames = [field.attname for field in fields]
        self.defaults = {field.attname: field.get_default() for field in fields}
        self.preps = [preparer(field) for field in fields]
        self.prepared = [(n, prep) for n, prep in enumerate(self.preps) if prep is not None]
        self.pick = operator.itemgetter(*self.attnames)

    def values(self, row: dict) -> tuple:
        picked = self.pick({**self.defaults, **row})
        values = list(picked) if len(self.attnames) > 1 else [picked]
        for n, prep in self.prepared:
            if values[n] is not None:
                values[n] = prep(values[n])
        return tuple(values)

    def write(self, rows: Iterable[dict]) -> int:
        return insert(self.name, self.columns, [self.values(row) for row in rows])

    def write_columns(self, names: list[str], rows: Iterable[tuple]) -> int:
        """Rows given as tuples of the named columns' values (the quicker way for many
        narrow rows); the other columns take their defaults."""
        where = {name: n for n, name in enumerate(self.attnames)}
        rest = [name for name in self.attnames if name not in names]
        defaults = self.values({})
        tail = tuple(defaults[where[name]] for name in rest)
        preps = [(n, self.preps[where[name]]) for n, name in enumerate(names)]
        preps = [(n, prep) for n, prep in preps if prep is not None]
        columns = [self.columns[where[name]] for name in [*names, *rest]]
        if preps:
            rows = [_prepare_row(row, preps) for row in rows]
        return insert(self.name, columns, [(*row, *tail) for row in rows])


def _prepare_row(row: tuple, preps: list) -> tuple:
    values = list(row)
    for n, prep in preps:
        if values[n] is not None:
            values[n] = prep(values[n])
    return values


def preparer(field: models.Field):
    """How a value becomes a database value, or None when it is stored as it is."""
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        # Aware already; a batch's rows share one moment, adapted once.
        return functools.lru_cache(maxsize=16)(ops.adapt_datetimefield_value)
    if isinstance(field, models.JSONField):
        return _JsonPreparer(ops, field.encoder)
    if isinstance(field, PREPARED):
        return lambda value: field.get_db_prep_save(value, connection)
    return None


class _JsonPreparer:
    """JSON for the database; an empty object, or one equal to the row before's (a
    batch's timeline entries share one), is not encoded again."""

    def __init__(self, ops, encoder):
        self.adapt = lambda value: ops.adapt_json_value(value, encoder)
        self.empty = self.adapt({})
        self.last, self.last_adapted = {}, self.empty

    def __call__(self, value):
        if value == {}:
            return self.empty
        if type(value) is not dict or value != self.last:
            adapted = self.adapt(value)
            if type(value) is not dict:
                return adapted
            self.last, self.last_adapted = dict(value), adapted
        return self.last_adapted


def insert(table: str, columns: list[str], rows: list[tuple]) -> int:
    """Write the rows in one statement (SQLite) or one COPY (PostgreSQL)."""
    if not rows:
        return 0
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            # Table and column names come from the models' _meta, quoted; values are bound.
            sql = f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})"  # noqa: S608
            cursor.executemany(sql, rows)
    return len(rows)


def next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(top=models.Max("pk"))["top"] or 0) + 1


def reset_sequences(models_: list[type[models.Model]]) -> None:
    """After writing explicit ids, PostgreSQL's sequences must continue after them."""
    if connection.vendor != "postgresql":
        return  # SQLite's AUTOINCREMENT follows the largest id by itself

    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models_):
            cursor.execute(statement)


def take_ids(model: type[models.Model], count: int) -> list[int]:
    """Ids for `count` new rows of the model, taken before they are written (so rows
    referring to them go in the same batch). Inside a transaction: on SQLite it holds the
    write lock from its start (IMMEDIATE), so the ids after the largest are its own; a
    PostgreSQL sequence, or SQLite's AUTOINCREMENT counter moved past them, keeps them
    from the rows written meanwhile without an id."""
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [connection.ops.quote_name(table), model._meta.pk.column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        assert connection.in_atomic_block, "ids are taken inside the writing transaction"
        # The table's name comes from the model's _meta, quoted. AUTOINCREMENT never
        # gives an id twice, even a deleted row's: past its counter too.
        cursor.execute(
            f"SELECT max(id), (SELECT seq FROM sqlite_sequence WHERE name = %s) "  # noqa: S608
            f"FROM {connection.ops.quote_name(table)}",
            [table],
        )
        largest, counted = cursor.fetchone()
        top = max(largest or 0, counted or 0)
        # Reserved: a row the transaction adds meanwhile without an id gets one after them.
        if counted is None:
            cursor.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, top + count]
            )
        else:
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [top + count, table]
            )
    return list(range(top + 1, top + 1 + count))


def list_indexes(model: type[models.Model], keep: set[str]) -> list[models.Index]:
    """The model's declared indexes (each a sort order of its lists) but those kept."""
    return [index for index in model._meta.indexes if index.name not in keep]


def drop_indexes(model: type[models.Model], indexes: list[models.Index]) -> None:
    """Set indexes aside for a bulk load: rows go in several times faster without them."""
    with connection.cursor() as cursor:
        for index in indexes:
            cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(index.name)}")


def build_indexes(model: type[models.Model], indexes: list[models.Index]) -> list[str]:
    """Build again the indexes that are missing (after a bulk load); their names."""
    with connection.cursor() as cursor:
        present = connection.introspection.get_constraints(cursor, model._meta.db_table)
    editor = connection.schema_editor()
    if connection.in_atomic_block:
        connection.check_constraints()  # PostgreSQL builds no index under pending checks
    built = []
    with connection.cursor() as cursor:
        for index in indexes:
            if index.name not in present:
                cursor.execute(str(index.create_sql(model, editor)))
                built.append(index.name)
    return built


@contextmanager
def fewer_collections(young: int = 50_000) -> Iterator[None]:
    """Python's cycle collector runs less often inside: after `young` new objects rather
    than 700. A bulk load makes a thousand rows' dicts and lists a batch, all alive
    until it is written, and each collection walked them again: an eighth of an import's
    CPU. Cycles are still collected, so memory stays bounded."""
    before = gc.get_threshold()
    gc.set_threshold(young, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def move_forward(model: type[models.Model], column: str, times: dict) -> int:
    """Set each row's datetime `column` to its time in `times` ({id: datetime}) where it is
    empty or earlier, in one UPDATE … FROM (VALUES …) on SQLite and PostgreSQL alike (a
    CASE of one WHEN per row cost more to build in the ORM than the update itself)."""
    if not times:
        return 0
    field = model._meta.get_field(column)
    ops = connection.ops
    table, name = connection.ops.quote_name(model._meta.db_table), ops.quote_name(field.column)
    rows = [(int(pk), ops.adapt_datetimefield_value(at)) for pk, at in times.items()]
    values = ", ".join(["(%s, %s)"] * len(rows))
    params = [value for row in rows for value in row]
    cast = "::timestamptz" if connection.vendor == "postgresql" else ""
    # The names are our own tables' (quoted); the values go as parameters.
    sql = (
        f"UPDATE {table} SET {name} = v.column2{cast} FROM (VALUES {values}) AS v "  # noqa: S608
        f"WHERE {table}.id = v.column1 AND ({table}.{name} IS NULL "
        f"OR {table}.{name} < v.column2{cast})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def update_rows(objs: list[models.Model], fields: list[str]) -> int:
    """Write these fields of these saved objects, in one UPDATE … FROM (VALUES …) on
    SQLite and PostgreSQL alike (Django's bulk_update builds a CASE of one WHEN per row
    and field: for a worker's batch it cost more than the rest of the batch)."""
    if not objs:
        return 0
    model = type(objs[0])
    concrete = [model._meta.get_field(name) for name in fields]
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    pk = ops.quote_name(model._meta.pk.column)
    pg = connection.vendor == "postgresql"
    # PostgreSQL reads VALUES' parameters as text: each is cast to its column's type.
    sets = ", ".join(
        f"{ops.quote_name(field.column)} = v.column{n + 2}"
        + (f"::{field.cast_db_type(connection)}" if pg else "")
        for n, field in enumerate(concrete)
    )
    row = "(" + ", ".join(["%s"] * (len(concrete) + 1)) + ")"
    params = [
        value
        for obj in objs
        for value in (
            obj.pk,
            *(field.get_db_prep_save(getattr(obj, field.attname), connection)
              for field in concrete),
        )
    ]  # fmt: skip
    # The names are our models' own, quoted; the values go as parameters.
    sql = (
        f"UPDATE {table} SET {sets} FROM (VALUES {', '.join([row] * len(objs))}) AS v "  # noqa: S608
        f"WHERE {table}.{pk} = v.column1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def insert_new(model: type[models.Model], rows: list[dict], *, unique: list[str]) -> list[int]:
    """Write the rows ({field: value}) whose `unique` fields are not taken yet, in one
    INSERT … ON CONFLICT DO NOTHING … RETURNING (SQLite 3.35 and PostgreSQL alike), and
    answer the new rows' ids in order: a provider's repeated delivery is told by the key
    it finds, not by an error, and costs no savepoint."""
    if not rows:
        return []
    ops, meta = connection.ops, model._meta
    fields = [meta.get_field(name) for name in rows[0]]
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    columns = ", ".join(ops.quote_name(field.column) for field in fields)
    keys = ", ".join(ops.quote_name(meta.get_field(name).column) for name in unique)
    # The names are our models' own, quoted; the values go as parameters.
    sql = (
        f"INSERT INTO {ops.quote_name(meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES {', '.join([row] * len(rows))} ON CONFLICT ({keys}) DO NOTHING "
        f"RETURNING {ops.quote_name(meta.pk.column)}"
    )
    params = [
        field.get_db_prep_save(value, connection)
        for values in rows
        for field, value in zip(fields, values.values(), strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(pk for (pk,) in cursor.fetchall())
