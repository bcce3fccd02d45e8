"""Bulk writing: executemany on SQLite, COPY on PostgreSQL, values prepared by Django.

Each value goes through the backend's own adaptation (the step get_db_prep_save ends
in), so a datetime, a date or a JSON value is stored exactly as the ORM, and so the
services, would store it. For rows nothing refers to by id (contact points, tag links,
timeline entries): an import's batch, the bench's million records.
"""

from collections.abc import Iterable

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

    def values(self, row: dict) -> tuple:
        full = self.defaults | row
        return tuple(
            full[name] if prep is None or full[name] is None else prep(full[name])
            for name, prep in zip(self.attnames, self.preps, strict=True)
        )

    def write(self, rows: Iterable[dict]) -> int:
        return insert(self.name, self.columns, [self.values(row) for row in rows])


def preparer(field: models.Field):
    """How a value becomes a database value, or None when it is stored as it is."""
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value  # the values are aware already
    if isinstance(field, models.JSONField):
        return lambda value: connection.ops.adapt_json_value(value, field.encoder)
    if isinstance(field, PREPARED):
        return lambda value: field.get_db_prep_save(value, connection)
    return None


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
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models_):
            cursor.execute(statement)
