"""Reading files: encodings and delimiters found (and overridden), XLSX read in streaming
mode, and files that are not tables refused at once with a reason."""

import zipfile

import pytest
from openpyxl import Workbook

from accord.transfer.mapping import guess, normal
from accord.transfer.reading import (
    MAX_COLUMNS,
    MAX_LINE,
    FileProblem,
    detect_delimiter,
    detect_encoding,
    read_rows,
    sniff,
)

ROWS = [["Имя", "Фамилия", "Телефон", "E-mail"], ["Иван", "Петров", "8 912 345-67-89", "i@x.ru"]]


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def csv_text(rows, delimiter=",") -> str:
    return "\r\n".join(delimiter.join(row) for row in rows) + "\r\n"


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        (csv_text(ROWS).encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + csv_text(ROWS).encode("utf-8"), "utf-8-sig"),
        (csv_text(ROWS).encode("utf-16"), "utf-16"),  # with its BOM
        (csv_text(ROWS).encode("utf-16-le"), "utf-16"),  # without one
        (csv_text(ROWS).encode("cp1251"), "cp1251"),
    ],
)
def test_each_encoding_is_found_and_read_back(tmp_path, encoded, expected):
    path = write(tmp_path, "people.csv", encoded)
    assert detect_encoding(encoded[:65536]) == expected
    table = sniff(path)
    assert (table.encoding, table.header, table.sample) == (expected, ROWS[0], [ROWS[1]])


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_found(tmp_path, delimiter):
    path = write(tmp_path, "people.csv", csv_text(ROWS, delimiter).encode())
    assert sniff(path).delimiter == delimiter
    assert detect_delimiter("name;phone\nAnna;+4930123\n") == ";"


def test_the_users_choice_wins_over_the_guess(tmp_path):
    path = write(tmp_path, "people.csv", csv_text(ROWS, ";").encode("cp1251"))
    table = sniff(path, encoding="latin-1", delimiter=";")
    assert table.encoding == "latin-1" and table.header[0] != "Имя"  # read as asked


def test_quoted_cells_with_delimiters_and_line_breaks(tmp_path):
    text = 'name,note\r\n"Petrov, Ivan","first line\r\nsecond line"\r\n'
    path = write(tmp_path, "people.csv", text.encode())
    assert sniff(path).sample == [["Petrov, Ivan", "first line\r\nsecond line"]]


def test_xlsx_is_read_as_text_with_dates_and_whole_numbers(tmp_path):
    import datetime

    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Phone", "Birthday", "Score"])
    sheet.append(["Anna", 79123456789, datetime.datetime(1990, 5, 1), 4.5])
    path = tmp_path / "people.xlsx"
    book.save(path)
    table = sniff(path)
    assert table.kind == "xlsx"
    assert table.sample == [["Anna", "79123456789", "1990-05-01", "4.5"]]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("junk.csv", bytes(range(256)) * 100, "binary"),
        ("empty.csv", b"\r\n\r\n", "empty"),
        ("notexcel.xlsx", b"PK\x03\x04" + b"\x00" * 100, "damaged"),
    ],
)
def test_files_that_are_not_tables_are_refused_with_a_reason(tmp_path, name, data, message):
    with pytest.raises(FileProblem, match=message):
        sniff(write(tmp_path, name, data))


def test_a_zip_bomb_named_xlsx_is_refused_before_it_is_unpacked(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (50 * 1024 * 1024))
    with pytest.raises(FileProblem, match="unpack"):
        sniff(path)


def test_too_many_columns_and_a_huge_line_stop_with_the_row(tmp_path):
    wide = write(tmp_path, "wide.csv", (",".join(["c"] * (MAX_COLUMNS + 1)) + "\n").encode())
    with pytest.raises(FileProblem, match="columns"):
        sniff(wide)
    huge = write(tmp_path, "huge.csv", b"name\n" + b"x" * (MAX_LINE + 10) + b"\n")
    with pytest.raises(FileProblem, match="Line 2 is longer"):
        sniff(huge)


def test_mixed_encodings_are_refused_naming_the_line(tmp_path):
    good = csv_text([["name"], *[["Анна"]] * 20_000]).encode("utf-8")  # past the sample
    path = write(tmp_path, "mixed.csv", good + "Ирина\r\n".encode("cp1251"))
    with pytest.raises(FileProblem, match="Line 20002 is not in UTF-8"):
        sniff(path)


def test_rows_stream_from_the_file(tmp_path):
    rows = [["name"]] + [[f"P{n}"] for n in range(1000)]
    path = write(tmp_path, "many.csv", csv_text(rows).encode())
    reader = read_rows(path, sniff(path))
    assert next(reader) == ["name"]
    assert sum(1 for _row in reader) == 1000


def test_columns_are_guessed_from_english_and_russian_headers():
    header = ["Имя", "Фамилия", "Телефон", "Моб. телефон", "E-mail:", "Компания", "Notes", "X"]
    assert guess(header, "people") == {
        0: "first_name",
        1: "last_name",
        2: "phone",
        3: "phone",
        4: "email",
        5: "company",
        6: "note",
    }
    assert normal(" E-mail: ") == "e mail"
    assert guess(["Full name", "Phone 2", "Lead source"], "people") == {
        0: "full_name",
        1: "phone",
        2: "source",
    }
    assert guess(["Company", "Website"], "companies") == {0: "name", 1: "website"}
