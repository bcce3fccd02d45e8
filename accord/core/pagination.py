"""Keyset (cursor) pagination: every list pages by its sort key, never by OFFSET; and a
list's count, capped past 10,000.

A cursor holds the sort and the sort values of the last row shown; the next page is
the rows after that row in the same order. Each page costs an index range scan,
whatever its depth. The sort always ends with the primary key, so ties are stable.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet, FieldDoesNotExist, ValidationError
from django.db import connections
from django.db.models import F, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils.formats import number_format
from django.utils.translation import pgettext

MAX_LIMIT = 200
# Past this a list's count says "10,000+": counting on would read every row it matches.
COUNT_CAP = 10_000


class InvalidCursor(ValueError):
    """The cursor was not made by this list with this sort."""


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None


def keyset_page(
    queryset: QuerySet, *, sort: str, cursor: str | None = None, limit: int = 50
) -> Page:
    """One page of `queryset` ordered by `sort` ("-created_at", "name") then the key.

    The sort fields must not be null; several go one way ("-a,-b").
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    fields = _sort_fields(sort)
    ordered = queryset.order_by(*fields)
    if cursor:
        values = _decode(cursor, sort, len(fields))
        values = _check_types(queryset, fields, values)
        ordered = ordered.filter(_after(fields, values))
    rows = list(ordered[: limit + 1])
    items, more = rows[:limit], len(rows) > limit
    next_cursor = _encode(sort, [_value(items[-1], f) for f in fields]) if more else None
    return Page(items=items, next_cursor=next_cursor)


@dataclass(frozen=True)
class Count:
    """A list's count: exact up to the cap, else the cap and `more`. Shown as a number in
    the reader's language ("10,000+" past the cap, "10 000+" in Russian)."""

    value: int
    more: bool = False

    def __str__(self) -> str:
        shown = number_format(self.value, force_grouping=True)
        if not self.more:
            return shown
        return pgettext("a count past its cap, as in 10,000+", "%(count)s+") % {"count": shown}

    def __bool__(self) -> bool:
        return self.value > 0


def capped_counts(querysets: dict[str, QuerySet], cap: int = COUNT_CAP) -> dict[str, Count]:
    """Several lists' counts in one statement, each reading at most `cap` + 1 of its rows
    (along the index its filter uses) however many match."""
    counts = {name: Count(0) for name in querysets}
    parts, params, names = [], [], []
    for name, queryset in querysets.items():
        try:
            sql, found = queryset.order_by().values("pk")[: cap + 1].query.sql_with_params()
        except EmptyResultSet:  # .none(), or a filter nothing can match
            continue
        # The ORM's own SQL, its values bound as parameters.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS counted_{len(parts)})")  # noqa: S608
        params.extend(found)
        names.append(name)
    if not parts:
        return counts
    database = next(iter(querysets.values())).db
    with connections[database].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    counts.update({name: Count(min(n, cap), n > cap) for name, n in zip(names, row, strict=True)})
    return counts


def _sort_fields(sort: str) -> list[str]:
    """The fields of `sort` ("-created_at", or several one way: "-waiting,-updated_at")
    and the key."""
    names = [name.strip() for name in sort.split(",")]
    descending = names[0].startswith("-")
    if any(name.startswith("-") != descending for name in names):
        raise ValueError("all the fields of a sort go the same way")
    if names[-1].lstrip("-") in {"pk", "id"}:
        return [*names[:-1], "-pk" if descending else "pk"]
    return [*names, "-pk" if descending else "pk"]


def _after(fields: list[str], values: list[Any]):
    """Rows after (a, b) in the order, as the row comparison (a, b) > (x, y).

    Both databases read a row comparison as one index range and stop after the page,
    where an OR of conditions can make them collect every later row first.
    """
    columns = Tuple(*(F(field.lstrip("-")) for field in fields))
    lookup = TupleLessThan if fields[0].startswith("-") else TupleGreaterThan
    return lookup(columns, tuple(values))


def _check_types(queryset: QuerySet, fields: list[str], values: list[Any]) -> list[Any]:
    """A tampered cursor must not reach the database with values of the wrong type; answers
    the values as the database compares them (a sort may also be an annotation)."""

    model, checked = queryset.model, []
    for field, value in zip(fields, values, strict=True):
        name = field.lstrip("-")
        try:
            model_field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        except FieldDoesNotExist:
            model_field = queryset.query.annotations[name].output_field
        try:
            python = model_field.to_python(value)
        except (ValidationError, TypeError, ValueError, OverflowError):
            raise InvalidCursor("The cursor is not valid.") from None
        if name == "pk" and not (isinstance(value, int) and 0 <= value < 2**63):
            raise InvalidCursor("The cursor is not valid.")
        checked.append(python if name in queryset.query.annotations else value)
    return checked


def _value(item: Any, field: str) -> Any:
    value = getattr(item, field.lstrip("-"))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _encode(sort: str, values: list[Any]) -> str:
    raw = json.dumps({"s": sort, "v": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, sort: str, size: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor("The cursor is not valid.") from None
    if not isinstance(data, dict) or data.get("s") != sort:
        raise InvalidCursor("The cursor belongs to another sort order.")
    values = data.get("v")
    if not isinstance(values, list) or len(values) != size:
        raise InvalidCursor("The cursor is not valid.")
    if any(not isinstance(v, str | int | float | bool) for v in values):
        raise InvalidCursor("The cursor is not valid.")
    return values
