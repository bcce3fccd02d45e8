"""Keyset (cursor) pagination: every list pages by its sort key, never by OFFSET.

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

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import F, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

MAX_LIMIT = 200


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

    The sort field must not be null (use a tie-free, non-null column).
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


def _sort_fields(sort: str) -> list[str]:
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    if name in {"pk", "id"}:
        return ["-pk" if descending else "pk"]
    return [sort, "-pk" if descending else "pk"]


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
