"""Exporting a client list: the rows the user sees as the list is filtered, the columns
shown or every field, CSV or Excel, big lists written by the worker, and no cell a
spreadsheet would run as a formula."""

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied

from accord.accounts.services import user_create
from accord.contacts.services import person_create
from accord.transfer import services
from accord.transfer.models import ExportJob
from accord.transfer.services import exports
from tests.conftest import PASSWORD, log_in


@pytest.fixture
def head(db):
    """Someone who may export and sees only their own clients."""
    from accord.accounts.models import Role

    Role.objects.create(
        slug="exporter",
        name="Exporter",
        access={"clients": {"read": "own", "write": "own"}},
        can_export=True,
    )
    return user_create(
        email="hugo@example.com", password=PASSWORD, role="exporter", full_name="Hugo Head"
    )


@pytest.fixture
def people(admin, head):
    anna = person_create(
        actor=admin,
        data={"first_name": "Anna", "last_name": "Petrova", "city": "Moscow", "tags": ["vip"],
              "phones": [{"number": "+79123456789", "label": ""},
                         {"number": "+4930123456", "label": ""}],
              "emails": [{"address": "anna@example.com", "label": ""}]},
    )  # fmt: skip
    formula = person_create(actor=admin, data={"first_name": "=HYPERLINK(1)", "city": "@Riga"})
    mine = person_create(actor=head, data={"first_name": "Own", "city": "Moscow"})
    return anna, formula, mine


def read(job: ExportJob) -> list[list[str]]:
    with job.file.open("rb") as stream:
        data = stream.read()
    if job.format == "xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
        return [
            ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
        ]
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_every_field_with_all_phones_tags_and_no_formulas(admin, people):
    job = services.export_create(actor=admin, record_type="people", fmt="csv")
    assert (job.status, job.rows_total, job.rows_done) == ("done", 3, 3)
    lines = read(job)
    header = lines[0]
    assert header[:4] == ["Name", "First name", "Last name", "Middle name"]
    rows = {line[0]: dict(zip(header, line, strict=True)) for line in lines[1:]}
    anna = rows["Anna Petrova"]
    # A CSV cell starting with + - = @ gets an apostrophe (a phone too: Excel shows it
    # as text, and an import takes the apostrophe off again).
    assert anna["All phones"] == "'+79123456789, +4930123456"
    assert (anna["Phone"], anna["E-mail"], anna["Tags"], anna["City"]) == (
        "'+79123456789", "anna@example.com", "vip", "Moscow",
    )  # fmt: skip
    assert rows["'=HYPERLINK(1)"]["City"] == "'@Riga"


def test_an_exported_file_imports_back(admin, people, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accord.contacts.models import Person

    job = services.export_create(actor=admin, record_type="people", fmt="csv")
    with job.file.open("rb") as stream:
        data = stream.read()
    Person.objects.all().delete()
    back = services.import_upload(
        actor=admin, upload=SimpleUploadedFile("back.csv", data), record_type="people"
    )
    mapping = {k: v for k, v in back.mapping.items() if v != "full_name"}  # names come apart
    services.import_configure(
        actor=admin, job=back, mapping=mapping, match_by="", on_duplicate="create"
    )
    services.import_start(actor=admin, job=back)
    services.import_run(back.pk)
    anna = Person.objects.get(first_name="Anna")
    assert [p.value for p in anna.contact_points.filter(kind="phone")] == [
        "+79123456789", "+4930123456",
    ]  # fmt: skip
    assert Person.objects.get(city="@Riga").first_name == "=HYPERLINK(1)"  # as it was


def test_the_filtered_list_as_its_user_sees_it_in_excel(head, people):
    job = services.export_create(
        actor=head, record_type="people", fmt="xlsx", filters={"city": "Moscow"},
        columns=["phone", "city"],
    )  # fmt: skip
    assert read(job) == [["Name", "Phone", "City"], ["Own", "", "Moscow"]]  # not Anna: not theirs


def test_excel_cells_are_text_never_formulas(admin, people):
    job = services.export_create(actor=admin, record_type="people", fmt="xlsx", columns=["city"])
    from openpyxl import load_workbook

    with job.file.open("rb") as stream:
        sheet = load_workbook(io.BytesIO(stream.read())).worksheets[0]
    cells = {row[0].value: row[0].data_type for row in sheet.iter_rows(min_row=2)}
    assert cells["=HYPERLINK(1)"] == "s"  # text, shown as written, never run


def test_a_big_export_is_written_by_the_worker(admin, people, monkeypatch, admin_client):
    monkeypatch.setattr(exports, "EXPORT_INLINE", 1)
    job = services.export_create(actor=admin, record_type="people", fmt="csv")
    assert job.status == "queued"
    # The button does not count a big list (the worker does, then shows its progress).
    assert job.rows_total == 0
    page = admin_client.get(f"/clients/export/{job.pk}/", headers={"HX-Request": "true"})
    assert "Counting the clients" in page.content.decode()
    services.export_run(job.pk)
    job.refresh_from_db()
    assert job.status == "done" and len(read(job)) == 4
    assert (job.rows_total, job.rows_done) == (3, 3)
    page = admin_client.get(f"/clients/export/{job.pk}/", headers={"HX-Request": "true"})
    assert 'max="3" value="3"' in page.content.decode() and "3 clients" in page.content.decode()


def test_a_bad_filter_and_a_role_without_export_are_refused(admin, owner, people):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.export_create(
            actor=admin, record_type="people", fmt="csv", filters={"no_contact_days": "x"}
        )
    with pytest.raises(PermissionDenied):
        services.export_create(actor=owner, record_type="people", fmt="csv")  # a manager


def test_export_from_the_list_screen_and_download(client, head, people):
    assert log_in(client, head.email)
    page = client.get("/clients/people/?city=Moscow").content.decode()
    assert 'action="/clients/people/export/"' in page and 'name="city" value="Moscow"' in page
    response = client.post(
        "/clients/people/export/", {"city": "Moscow", "format": "csv", "columns": "all"}
    )
    job = ExportJob.objects.get()
    assert response["Location"] == f"/clients/export/{job.pk}/"
    assert "Download" in client.get(response["Location"]).content.decode()
    download = client.get(f"/clients/export/{job.pk}/file/")
    body = b"".join(download.streaming_content).decode("utf-8-sig")
    assert "Own" in body and "Anna" not in body
    assert download["Content-Disposition"].startswith("attachment")
