"""Tables handed out as files: a CSV or an XLSX of plain rows, with any cell a
spreadsheet would run as a formula (=, +, -, @, a tab or CR first) made plain text by an
apostrophe in front (OWASP's CSV injection advice)."""

import csv
import io
from collections.abc import Iterable
from decimal import Decimal

from django.http import HttpResponse
from openpyxl import Workbook

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet would run
FORMULA_FIRST = frozenset(FORMULA_STARTS)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutral(value: str) -> str:
    """A cell a spreadsheet would run as a formula starts with an apostrophe instead."""
    return "'" + value if value[:1] in FORMULA_FIRST else value


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal):
        return value
    return neutral(str(value))


def table_file(fmt: str, name: str, header: list[str], rows: Iterable[list]) -> HttpResponse:
    """A small table (a report's rows) as a CSV or XLSX download named `name`."""
    if fmt == "xlsx":
        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append([_cell(h) for h in header])
        for row in rows:
            sheet.append([_cell(v) for v in row])
        body = io.BytesIO()
        book.save(body)
        response = HttpResponse(body.getvalue(), content_type=XLSX)
    else:
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow([_cell(h) for h in header])
        writer.writerows([_cell(v) for v in row] for row in rows)
        # A byte-order mark, so a spreadsheet opens the file as UTF-8.
        response = HttpResponse("\ufeff" + text.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
