"""An export's cells made in Python from SQLite's stored values, a chunk at a time.

SQLite runs inside the worker's own process, so formatting the cells in SQL (as
cells.py does for PostgreSQL, on the server's core) saved nothing there: it measured
as much CPU as these readers, or up to a fifth more. So on SQLite the rows come
straight from the cursor and each column's reader, chosen once, turns the stored value
into the cell.
"""

import datetime
import json
from collections.abc import Iterator

from django.db import connections
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from accord.contacts.models import Company, ContactPoint, Person
from accord.core.spreadsheets import FORMULA_FIRST

CHUNK = 2000  # rows a query reads: a chunk's cells are held until it is written


def chunks(
    queryset: QuerySet, kind: str, keys: list[str], sources: dict, *, neutral: bool
) -> Iterator[list[list]]:
    """Lists of CHUNK rows in id order (a keyset: the millionth row costs what the first
    does), each the cells of `keys` (a column reads the field `sources` names); for CSV
    (`neutral`) a cell a spreadsheet would run gets an apostrophe."""
    model = Person if kind == "person" else Company
    plain = [sources[k] for k in keys if not k.startswith("cf:")]
    plain = [f for f in plain if f not in ("phones", "emails", "tags")]
    if any(key.startswith("cf:") for key in keys):
        plain.append("custom_fields")
    fields = ["pk", *dict.fromkeys(plain)]
    zone = timezone.get_current_timezone()  # the clock of the one exporting
    at = {field: n for n, field in enumerate(fields)}  # each field's place in a row
    readers = [_reader(model, key, sources.get(key, key), zone, at) for key in keys]
    custom = at.get("custom_fields")
    connection = connections[queryset.db]
    selected = [_as_text(model, f) for f in fields]
    cells = _safe if neutral else _plain
    last = 0
    with connection.cursor() as cursor:
        while True:
            chunk = queryset.filter(pk__gt=last).order_by("pk").values_list(*selected)[:CHUNK]
            cursor.execute(*chunk.query.sql_with_params())
            chunk = cursor.fetchall()
            if not chunk:
                return
            ids = [row[0] for row in chunk]
            points = _points(kind, ids) if {"phones", "emails"} & set(keys) else {}
            tags = _tags(model, kind, ids) if "tags" in keys else {}
            if custom is not None:
                chunk = [_with_custom_fields(row, custom) for row in chunk]
            yield [cells([read(row, points, tags) for read in readers]) for row in chunk]
            last = ids[-1]


def _safe(line: list) -> list:
    """A CSV line's cells: formulas neutralised, yes/no for booleans."""
    return [
        ("'" + value if value[:1] in FORMULA_FIRST else value)
        if type(value) is str
        else (("yes" if value else "no") if type(value) is bool else value)
        for value in line
    ]


def _plain(line: list) -> list:
    """An Excel line's cells: yes/no for booleans (text is typed as text there)."""
    return [("yes" if value else "no") if type(value) is bool else value for value in line]


TEXT_ON_SQLITE = {"DateTimeField", "DateField", "BooleanField"}


def _as_text(model, name: str):
    """A moment, day or yes/no column read as SQLite stores it (text): the driver would
    otherwise parse each value with a regular expression, a third of the reading time."""
    if "__" in name or name == "pk":
        return name
    if model._meta.get_field(name).get_internal_type() in TEXT_ON_SQLITE:
        return Cast(name, TextField())
    return name


def _with_custom_fields(row: tuple, place: int) -> list:
    """The row with its custom fields as a dict (SQLite hands the JSON over as text)."""
    row = list(row)
    value = row[place]
    row[place] = json.loads(value) if type(value) is str else (value or {})
    return row


def _of(field: str, ids: list[int]) -> dict:
    """A filter for the rows of these records (ascending ids): a range when they are
    most of it (a whole list), the ids themselves when they are scattered (a segment)."""
    if ids[-1] - ids[0] < 2 * len(ids):
        return {f"{field}__gte": ids[0], f"{field}__lte": ids[-1]}
    return {f"{field}__in": ids}


def _points(kind: str, ids: list[int]) -> dict:
    found: dict = {}
    owner = f"{kind}_id"
    for record, point_kind, value in (
        ContactPoint.objects.filter(**_of(owner, ids))
        .order_by("position", "id")
        .values_list(owner, "kind", "value")
    ):
        found.setdefault((record, point_kind), []).append(value)
    return found


def _tags(model, kind: str, ids: list[int]) -> dict:
    through = model.tags.through
    found: dict = {}
    for record, name in through.objects.filter(**_of(f"{kind}_id", ids)).values_list(
        f"{kind}_id", "tag__name"
    ):
        found.setdefault(record, []).append(name)
    return found


def _reader(model, key: str, source: str, zone, at: dict[str, int]):
    """How a column's cell is read from a record's row (its fields at `at`'s places,
    the id first; with its chunk's points and tags): chosen once per column, not once
    per cell."""
    if key.startswith("cf:"):
        name, place = key[3:], at["custom_fields"]
        return lambda row, points, tags: _custom(row[place].get(name, ""))
    if key in ("phones", "emails"):
        kind = key[:-1]
        return lambda row, points, tags: ", ".join(points.get((row[0], kind), ()))
    if key == "tags":
        return lambda row, points, tags: ", ".join(sorted(tags.get(row[0], ())))
    place = at[source]
    field = model._meta.get_field(key) if source == key else None
    kind = field.get_internal_type() if field is not None else ""
    if kind == "DateTimeField":
        moment = _moments(zone)
        return lambda row, points, tags: moment(row[place])
    if kind == "DateField":  # SQLite: ISO text already
        return lambda row, points, tags: _day(row[place])
    if kind == "BooleanField":  # SQLite: "1" or "0"
        return lambda row, points, tags: _yes(row[place])
    return lambda row, points, tags: "" if row[place] is None else row[place]


def _day(value) -> str:
    if not value:
        return ""
    return value if type(value) is str else value.isoformat()


def _yes(value) -> bool | None:
    return None if value is None else value in (True, 1, "1")


def _custom(value):
    return ", ".join(map(str, value)) if isinstance(value, list) else value


def _moments(zone):
    """A reader of moments on the clock of the one exporting, to the minute.

    The zone's offset is looked up once per day of UTC, not once per cell (and per
    moment on the few days a year the zone's offset changes)."""
    offsets: dict[int, datetime.timedelta | None] = {}

    def offset_of(utc: datetime.datetime) -> datetime.timedelta | None:
        start = utc.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=datetime.UTC)
        first = start.astimezone(zone).utcoffset()
        last = (start + datetime.timedelta(hours=23, minutes=59)).astimezone(zone).utcoffset()
        return first if first == last else None

    def moment(value) -> str:
        if value is None:
            return ""
        if type(value) is str:  # SQLite: text, in UTC
            value = datetime.datetime.fromisoformat(value)
        elif value.tzinfo is not None:  # PostgreSQL: aware
            value = value.replace(tzinfo=None) - value.utcoffset()
        day = value.toordinal()
        if day not in offsets:
            offsets[day] = offset_of(value)
        offset = offsets[day]
        if offset is None:
            value = value.replace(tzinfo=datetime.UTC).astimezone(zone).replace(tzinfo=None)
        else:
            value += offset
        return value.isoformat(" ", "minutes")

    return moment
