"""Writing a list of clients to CSV or XLSX, a chunk of rows at a time, in bounded memory.

The rows are those the list shows the user who asked (their visibility, the list's
filters or segment); the columns are the ones the list shows, or every field. A cell
that a spreadsheet would run as a formula (=, +, -, @, tab or CR first) gets an
apostrophe in front.
"""

import csv
import datetime
import json
from collections.abc import Iterator
from pathlib import Path

from django.db import connections
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from accord.contacts.models import Company, ContactPoint, Person
from accord.transfer.cleaning import FORMULA_STARTS

CHUNK = 2000

# Every field an export may hold: key -> label. "cf:<key>" adds a custom field.
FIELDS = {
    "person": [
        ("name", _("Name")), ("first_name", _("First name")), ("last_name", _("Last name")),
        ("middle_name", _("Middle name")), ("phone", _("Phone")), ("phones", _("All phones")),
        ("email", _("E-mail")), ("emails", _("All e-mails")), ("company", _("Company")),
        ("kind", _("Stage")), ("owner", _("Owner")), ("city", _("City")),
        ("country", _("Country")), ("address", _("Address")), ("source", _("Source")),
        ("tags", _("Tags")), ("birthday", _("Birthday")), ("gender", _("Gender")),
        ("marketing_consent", _("Agrees to receive offers")),
        ("external_id", _("External id")), ("last_contact_at", _("Last contact")),
        ("created_at", _("Added")), ("updated_at", _("Updated")),
    ],
    "company": [
        ("name", _("Name")), ("phone", _("Phone")), ("phones", _("All phones")),
        ("email", _("E-mail")), ("emails", _("All e-mails")), ("website", _("Website")),
        ("kind", _("Kind")), ("owner", _("Owner")), ("city", _("City")),
        ("country", _("Country")), ("address", _("Address")), ("source", _("Source")),
        ("tags", _("Tags")), ("external_id", _("External id")),
        ("last_contact_at", _("Last contact")), ("created_at", _("Added")),
        ("updated_at", _("Updated")),
    ],
}  # fmt: skip
COLUMNS = {  # what a field reads from the record's row
    "name": "full_name", "phone": "primary_phone", "email": "primary_email",
    "company": "company__name", "owner": "owner__email",
}  # fmt: skip


FORMULA_FIRST = frozenset(FORMULA_STARTS)


def source_of(kind: str, key: str) -> str:
    """The row field a column reads (a company's name is a column of its own)."""
    return key if kind == "company" and key == "name" else COLUMNS.get(key, key)


def neutral(value: str) -> str:
    """A cell a spreadsheet would run as a formula starts with an apostrophe instead."""
    return "'" + value if value[:1] in FORMULA_FIRST else value


def columns_for(kind: str, keys: list[str] | None, custom_fields) -> list[tuple[str, str]]:
    """(key, label) of the columns: `keys` in their order (the list's columns, the name
    first), or every field and custom field when `keys` is None."""
    known = dict(FIELDS[kind])
    known.update({f"cf:{f.key}": str(f.label) for f in custom_fields})
    if keys is None:
        return [(key, str(label)) for key, label in known.items()]
    wanted = ["name", *[k for k in keys if k != "name"]]
    return [(key, str(known[key])) for key in wanted if key in known]


def rows(queryset: QuerySet, kind: str, columns: list[tuple[str, str]]) -> Iterator[list]:
    """The header, then a list of cell values per record, read CHUNK records at a time
    in id order (a keyset: the millionth row costs what the first does).

    The rows come straight from the database cursor, past the ORM's per-value
    converters: each column's reader turns the engine's value (SQLite's text, the
    PostgreSQL driver's types) into the cell once."""
    model = Person if kind == "person" else Company
    keys = [key for key, _label in columns]
    plain = [source_of(kind, k) for k in keys if not k.startswith("cf:")]
    plain = [f for f in plain if f not in ("phones", "emails", "tags")]
    if any(key.startswith("cf:") for key in keys):
        plain.append("custom_fields")
    fields = ["pk", *dict.fromkeys(plain)]
    zone = timezone.get_current_timezone()  # the clock of the one exporting
    at = {field: n for n, field in enumerate(fields)}  # each field's place in a row
    readers = [_reader(model, kind, key, zone, at) for key in keys]
    custom = at.get("custom_fields")
    connection = connections[queryset.db]
    selected = [_as_text(model, f) if connection.vendor == "sqlite" else f for f in fields]
    yield [label for _key, label in columns]
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
            for row in chunk:
                if custom is not None:
                    row = _with_custom_fields(row, custom)
                yield [read(row, points, tags) for read in readers]
            last = ids[-1]


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


def _reader(model, record_kind: str, key: str, zone, at: dict[str, int]):
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
    place = at[source_of(record_kind, key)]
    field = model._meta.get_field(key) if source_of(record_kind, key) == key else None
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


def write(path: Path, fmt: str, lines: Iterator[list], progress=None) -> int:
    """Write the rows to `path` as CSV (UTF-8 with a BOM, which Excel reads; a cell a
    spreadsheet would run gets an apostrophe) or XLSX (openpyxl's write-only mode; text
    cells typed as text); answers the number of records written."""
    count = -1  # the header is not a record
    if fmt == "xlsx":
        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        for line in lines:
            sheet.append([_xlsx_cell(sheet, value, ILLEGAL_CHARACTERS_RE) for value in line])
            count += 1
            if progress and count and count % CHUNK == 0:
                progress(count)
        book.save(path)
        return count
    with path.open("w", newline="", encoding="utf-8-sig") as stream:
        writer = csv.writer(stream)
        for line in lines:
            writer.writerow(_safe(line))
            count += 1
            if progress and count and count % CHUNK == 0:
                progress(count)
    return count


def _xlsx_cell(sheet, value, illegal):
    """A cell of the workbook: text stays text (a string starting with = would otherwise
    be written as a formula), so nothing needs an apostrophe."""

    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, illegal.sub("", value))
    cell.data_type = "s"
    return cell


def _safe(line: list) -> list:
    """A CSV line's cells: formulas neutralised, yes/no for booleans."""
    return [
        ("'" + value if value[:1] in FORMULA_FIRST else value)
        if type(value) is str
        else (("yes" if value else "no") if type(value) is bool else value)
        for value in line
    ]
