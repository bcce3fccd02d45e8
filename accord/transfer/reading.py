"""Reading a spreadsheet a row at a time, in bounded memory: CSV in any delimiter and in
UTF-8 (with or without a BOM), UTF-16 or Windows-1251, and XLSX.

A file that is not a table — binary junk, a zip bomb named .xlsx, thousands of columns,
a line of hundreds of megabytes, text in another encoding than the one chosen — stops
with a FileProblem that says so in words, after reading at most a few megabytes.
"""

import codecs
import csv
import datetime
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.utils.translation import gettext as _
from openpyxl import load_workbook

SAMPLE_BYTES = 64 * 1024
MAX_COLUMNS = 500
MAX_LINE = 1_000_000  # characters in one line of a CSV file (a quoted cell may span lines)
MAX_XLSX_UNPACKED = 2 * 1024**3  # what the parts of an XLSX may unpack to, in all
MAX_XLSX_RATIO = 200  # a part that unpacks to more than 200 times its size is a bomb
DELIMITERS = ",;\t|"
ENCODINGS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (BOM)",
    "utf-16": "UTF-16",
    "cp1251": "Windows-1251",
    "latin-1": "ISO-8859-1",
}


class FileProblem(ValueError):
    """The file cannot be read as a table; the message is for the user."""


@dataclass
class Table:
    """What was found at the head of a file: its kind, how to read it, its first rows."""

    kind: str  # "csv" or "xlsx"
    encoding: str = ""
    delimiter: str = ""
    header: list[str] = field(default_factory=list)
    sample: list[list[str]] = field(default_factory=list)


def sniff(path: Path, *, encoding: str = "", delimiter: str = "", rows: int = 10) -> Table:
    """Look at a file: XLSX or CSV, and for a CSV its encoding and delimiter (what the
    caller chose wins over what is guessed); the header and the first `rows` rows."""
    head = _head(path)
    if head.startswith(b"PK\x03\x04"):
        table = Table(kind="xlsx")
    else:
        chosen = encoding or detect_encoding(head)
        if chosen not in ENCODINGS:
            raise FileProblem(_("Choose an encoding from the list."))
        text = _decode_sample(head, chosen)
        table = Table(kind="csv", encoding=chosen, delimiter=delimiter or detect_delimiter(text))
        if table.delimiter not in DELIMITERS:
            raise FileProblem(_("Choose a delimiter from the list."))
    if table.kind == "csv":
        check_encoding(path, table.encoding)
    reader = read_rows(path, table)
    table.header = next(reader, [])
    if not any(cell.strip() for cell in table.header):
        raise FileProblem(_("The file is empty: its first row should name the columns."))
    for _n, row in zip(range(rows), reader, strict=False):
        table.sample.append(row)
    return table


def _head(path: Path) -> bytes:
    with open(path, "rb") as stream:
        return stream.read(SAMPLE_BYTES)


def detect_encoding(head: bytes) -> str:
    """UTF-8 or UTF-16 by their byte-order mark; UTF-16 without one by its zero bytes;
    else UTF-8 when the bytes are valid UTF-8, else Windows-1251 (what Excel writes for
    Russian). Zero bytes in no such pattern mean a binary file."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        even, odd = head[0::2], head[1::2]
        if odd.count(0) > len(odd) * 0.3 or even.count(0) > len(even) * 0.3:
            return "utf-16"  # without a BOM: the codec reads it as little-endian
        raise FileProblem(_("This is not a spreadsheet: the file holds binary data."))
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not just a character cut at the sample's end
            return "cp1251"
    return "utf-8"


def check_encoding(path: Path, encoding: str) -> None:
    """Read the whole file through the decoder, a megabyte at a time, so that a file in
    mixed encodings is refused before anything is imported, naming the line."""
    if encoding == "utf-16" and not _head(path).startswith(
        (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    ):
        encoding = "utf-16-le"
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    line = 1
    with open(path, "rb") as stream:
        while chunk := stream.read(1024 * 1024):
            try:
                line += decoder.decode(chunk).count("\n")
            except UnicodeDecodeError as error:
                line += chunk[: error.start].count(b"\n")
                raise FileProblem(
                    _("Line %(line)s is not in %(encoding)s: choose the file's encoding.")
                    % {"line": line, "encoding": ENCODINGS[encoding_name(encoding)]}
                ) from None


def _decode_sample(head: bytes, encoding: str) -> str:
    if encoding == "utf-16" and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16-le"
    return head.decode(encoding, errors="ignore")


def detect_delimiter(text: str) -> str:
    """The delimiter of a CSV sample: the one the csv module's sniffer finds among
    , ; tab |, else the most frequent of them in the first line, else a comma."""
    lines = text.splitlines()[:20]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = lines[0] if lines else ""
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def read_rows(path: Path, table: Table) -> Iterator[list[str]]:
    """Every row of the file as a list of strings, the header first."""
    if table.kind == "xlsx":
        return _xlsx_rows(path)
    return _csv_rows(path, table.encoding, table.delimiter)


def _csv_rows(path: Path, encoding: str, delimiter: str) -> Iterator[list[str]]:
    if encoding == "utf-16":
        with open(path, "rb") as stream:
            if stream.read(2) not in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                encoding = "utf-16-le"
    csv.field_size_limit(MAX_LINE)
    with open(path, encoding=encoding, newline="", errors="strict") as stream:
        reader = csv.reader(_bounded_lines(stream), delimiter=delimiter)
        number = 0
        try:
            for row in reader:
                number += 1
                if len(row) > MAX_COLUMNS:
                    raise FileProblem(
                        _("Row %(row)s has %(count)s columns; at most %(limit)s are read.")
                        % {"row": number, "count": len(row), "limit": MAX_COLUMNS}
                    )
                yield row
        except UnicodeDecodeError:
            raise FileProblem(
                _("Row %(row)s is not in %(encoding)s: choose the file's encoding.")
                % {"row": number + 1, "encoding": ENCODINGS[encoding_name(encoding)]}
            ) from None
        except csv.Error as error:
            raise FileProblem(
                _("Row %(row)s cannot be read: %(reason)s.") % {"row": number + 1, "reason": error}
            ) from None


def encoding_name(encoding: str) -> str:
    return "utf-16" if encoding.startswith("utf-16") else encoding


def _bounded_lines(stream) -> Iterator[str]:
    """The file's lines, refusing one longer than MAX_LINE before it fills the memory."""
    number = 0
    while True:
        line = stream.readline(MAX_LINE + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE:
            raise FileProblem(
                _("Line %(line)s is longer than %(limit)s characters: this is not a table.")
                % {"line": number, "limit": f"{MAX_LINE:,}"}
            )
        yield line


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    """The first sheet's rows; the archive is checked before openpyxl unpacks anything."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise FileProblem(_("This .xlsx file is damaged: it cannot be opened.")) from None
    with archive:
        parts = archive.infolist()
        if sum(part.file_size for part in parts) > MAX_XLSX_UNPACKED or any(
            part.file_size > MAX_XLSX_RATIO * max(part.compress_size, 1024) for part in parts
        ):
            raise FileProblem(
                _("This .xlsx file would unpack to far more than it holds; it is not read.")
            )
        if "xl/workbook.xml" not in archive.namelist():
            raise FileProblem(_("This is a zip archive, not an Excel workbook."))

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on a damaged workbook
        raise FileProblem(
            _("This .xlsx file cannot be read: %(reason)s.") % {"reason": error}
        ) from None
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if len(values) > MAX_COLUMNS:
                raise FileProblem(
                    _("Row %(row)s has %(count)s columns; at most %(limit)s are read.")
                    % {"row": number, "count": len(values), "limit": MAX_COLUMNS}
                )
            row = [cell_text(value) for value in values]
            while row and row[-1] == "":
                row.pop()
            yield row
    finally:
        book.close()


def cell_text(value) -> str:
    """A spreadsheet cell as the text a CSV would hold: dates as YYYY-MM-DD, whole
    numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return str(value)
    return str(value)
