"""Writing a list of clients to CSV or XLSX, a chunk of rows at a time, in bounded memory.

The rows are those the list shows the user who asked (their visibility, the list's
filters or segment); the columns are the ones the list shows, or every field. A cell
that a spreadsheet would run as a formula (=, +, -, @, tab or CR first) gets an
apostrophe in front.
"""

import csv
import queue
import threading
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path

from django.db import connections
from django.db.models import Max, Min, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from accord.contacts.models import Company, Person
from accord.core.spreadsheets import neutral
from accord.transfer import cells, stored

CHUNK = 5000  # ids a PostgreSQL query reads (stored.CHUNK rows on SQLite)

# Every field an export may hold: key -> label. "cf:<key>" adds a custom field.
FIELDS = {
    "person": [
        ("name", pgettext_lazy("a person's", "Name")), ("first_name", _("First name")),
        ("last_name", _("Last name")),
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
        ("name", pgettext_lazy("a company's", "Name")), ("phone", _("Phone")),
        ("phones", _("All phones")), ("email", _("E-mail")), ("emails", _("All e-mails")),
        ("website", _("Website")),
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


def source_of(kind: str, key: str) -> str:
    """The row field a column reads (a company's name is a column of its own)."""
    return key if kind == "company" and key == "name" else COLUMNS.get(key, key)


def columns_for(kind: str, keys: list[str] | None, custom_fields) -> list[tuple[str, str]]:
    """(key, label) of the columns: `keys` in their order (the list's columns, the name
    first), or every field and custom field when `keys` is None."""
    known = dict(FIELDS[kind])
    known.update({f"cf:{f.key}": str(f.label) for f in custom_fields})
    if keys is None:
        return [(key, str(label)) for key, label in known.items()]
    wanted = ["name", *[k for k in keys if k != "name"]]
    return [(key, str(known[key])) for key in wanted if key in known]


def chunks(
    queryset: QuerySet, kind: str, columns: list[tuple[str, str]], *, fmt: str, custom_fields=()
) -> Iterator[list[tuple]]:
    """The records' cells in id order, in lists of about CHUNK rows (the millionth row
    costs what the first does), each row the file's cells: for CSV with formulas
    neutralised. PostgreSQL makes the cells (cells.py), a range of CHUNK ids a query;
    on SQLite Python makes them from the stored text (stored.py)."""
    if queryset.query.is_empty():  # a filter nothing can match (a tag nobody has)
        return
    connection = connections[queryset.db]
    keys = [key for key, _label in columns]
    if connection.vendor == "sqlite":  # SQLite runs in this process: see stored.py
        sources = {key: source_of(kind, key) for key in keys}
        yield from stored.chunks(queryset, kind, keys, sources, neutral=fmt == "csv")
        return
    model = Person if kind == "person" else Company
    types = {f"cf:{field.key}": field.type for field in custom_fields}
    zone = timezone.get_current_timezone()  # the clock of the one exporting
    # PostgreSQL runs a subquery per row slowly (23 µs a person for phones, e-mails and
    # tags): it reads those for a whole chunk in one grouped query instead.
    apart = [k for k in keys if k in cells.LISTED]
    neutral = fmt == "csv"
    made = {
        f"c{n}": _cell(model, kind, key, zone, types, neutral=neutral)
        for n, key in enumerate(keys)
        if key not in apart
    }
    chunk = queryset.annotate(**made).filter(pk__gt=LOW, pk__lte=HIGH).order_by("pk")
    sql, params = chunk.values_list("pk", *made).query.get_compiler(queryset.db).as_sql()
    low, high = params.index(LOW), params.index(HIGH)  # compiled once, these change
    # A row is the id, the cells made in the query, then those read apart: in column order.
    places = [1 + list(made).index(f"c{n}") if k not in apart else 1 + len(made) + apart.index(k)
              for n, k in enumerate(keys)]  # fmt: skip
    pick = itemgetter(*places) if len(places) > 1 else (lambda row: (row[places[0]],))

    def read(first: int) -> list[tuple]:
        """The rows of the ids after `first`, up to CHUNK more, on this thread's connection."""
        values = list(params)
        values[low], values[high] = first, first + CHUNK
        with connections[queryset.db].cursor() as cursor:
            cursor.execute(sql, values)
            found = cursor.fetchall()
            if apart and found:
                ids = [row[0] for row in found]
                lists = cells.listed_apart(cursor, kind, apart, ids, neutral)
                found = [row + tuple(cell.get(row[0]) for cell in lists) for row in found]
        return list(map(pick, found))

    span = model._base_manager.using(queryset.db).aggregate(first=Min("pk"), last=Max("pk"))
    if span["first"] is None:
        return
    starts = range(span["first"] - 1, span["last"], CHUNK)
    if connection.in_atomic_block or len(starts) < 2:
        # Rows written in a transaction not yet committed are seen by its connection only.
        yield from map(read, starts)
    else:
        yield from _read_ahead(read, starts)


LOW, HIGH = -7_919_311, -7_919_309  # stand for a chunk's ids while the query compiles
READERS = 2  # threads reading chunks, each on a connection of its own
AHEAD = 2  # chunks a reader may have read and not yet handed over: memory stays bounded


def _read_ahead(read, starts: range) -> Iterator[list[tuple]]:
    """read(start) for each start, in order, while READERS threads read the next chunks:
    PostgreSQL makes their cells while this thread writes the file."""
    stop = threading.Event()
    handed = [queue.Queue(maxsize=AHEAD) for _ in range(READERS)]

    def reader(number: int) -> None:
        try:
            for start in starts[number::READERS]:
                try:
                    result = read(start)
                except Exception as error:
                    result = _Failed(error)
                while not stop.is_set():
                    try:
                        handed[number].put(result, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set() or isinstance(result, _Failed):
                    return
        finally:
            connections.close_all()  # this thread's own

    threads = [threading.Thread(target=reader, args=(n,), daemon=True) for n in range(READERS)]
    for thread in threads:
        thread.start()
    try:
        for number in range(len(starts)):
            result = handed[number % READERS].get()
            if isinstance(result, _Failed):
                raise result.error
            yield result
    finally:
        stop.set()
        for thread in threads:
            thread.join()


class _Failed:
    def __init__(self, error: Exception):
        self.error = error


def _cell(model, record_kind: str, key: str, zone, types: dict, *, neutral: bool):
    """The SQL that reads a column's cell."""
    if key.startswith("cf:"):
        return cells.Custom(key[3:], types.get(key, ""), neutral=neutral)
    source = source_of(record_kind, key)
    if "__" in source:
        return cells.Text(source, neutral=neutral)
    field_type = model._meta.get_field(source).get_internal_type()
    if field_type == "DateTimeField":
        return cells.Moment(source, zone)
    if field_type == "DateField":
        return cells.Day(source)
    if field_type == "BooleanField":
        return cells.YesNo(source)
    return cells.Text(source, neutral=neutral)


def write(
    path: Path, fmt: str, header: list[str], rows: Iterator[list[tuple]], progress=None
) -> int:
    """Write the header and the chunks of rows to `path` as CSV (UTF-8 with a BOM, which
    Excel reads) or XLSX (openpyxl's write-only mode; text cells typed as text, so a
    formula is never run); answers the number of records written."""
    count = 0
    if fmt == "xlsx":
        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(header)
        for chunk in rows:
            for line in chunk:
                sheet.append([_xlsx_cell(sheet, value, ILLEGAL_CHARACTERS_RE) for value in line])
            count += len(chunk)
            if progress:
                progress(count)
        book.save(path)
        return count
    with path.open("w", newline="", encoding="utf-8-sig") as stream:
        writer = csv.writer(stream)
        writer.writerow([neutral(label) for label in header])
        for chunk in rows:
            writer.writerows(chunk)
            count += len(chunk)
            if progress:
                progress(count)
    return count


def _xlsx_cell(sheet, value, illegal):
    """A cell of the workbook: text stays text (a string starting with = would otherwise
    be written as a formula), so nothing needs an apostrophe."""
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, illegal.sub("", value))
    cell.data_type = "s"
    return cell
