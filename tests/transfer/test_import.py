"""Importing people from a file: the checks per cell, duplicates (skip, update, create),
the report of failed rows, undo, and a worker that dies mid-way resuming without saving
a row twice."""

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from accord.accounts.services import user_create
from accord.contacts.models import Company, Person
from accord.contacts.services import person_create, person_update
from accord.core.timeline import timeline_of
from accord.transfer import jobs, services
from accord.transfer.models import ImportJob
from tests.conftest import PASSWORD

HEADER = ["Name", "Phone", "E-mail", "Company", "Tags", "City", "Owner", "Stage"]


def upload(actor, rows, *, header=HEADER, name="people.csv", encoding="utf-8", **setup):
    text = io.StringIO()
    csv.writer(text).writerows([header, *rows])
    data = SimpleUploadedFile(name, text.getvalue().encode(encoding))
    job = services.import_upload(actor=actor, upload=data, record_type="people")
    services.import_configure(
        actor=actor,
        job=job,
        mapping=setup.pop("mapping", job.mapping),
        match_by=setup.pop("match_by", job.match_by),
        on_duplicate=setup.pop("on_duplicate", "skip"),
    )
    return job


def run(job) -> ImportJob:
    services.import_start(actor=job.created_by, job=job)
    services.import_run(job.pk)
    job.refresh_from_db()
    return job


def test_people_are_imported_with_their_phones_emails_company_tags_and_owner(admin, owner):
    job = upload(
        admin,
        [
            ["Anna Petrova", "8 (912) 345-67-89; +49 30 1234567", "Anna@Example.com", "Okna",
             "vip, web", "Moscow", owner.email, "client"],
            ["Boris", "not a phone", "", "", "", "", "", ""],
            ["", "+79001112233", "", "", "", "", "", ""],
            ["Vera", "", "vera@example.com", "Okna", "", "", "nobody@example.com", "lead"],
        ],
    )  # fmt: skip
    assert job.mapping == {"0": "full_name", "1": "phone", "2": "email", "3": "company",
                           "4": "tags", "5": "city", "6": "owner", "7": "kind"}  # fmt: skip
    job = run(job)
    assert (job.status, job.rows_total, job.rows_done) == ("done", 4, 4)
    assert (job.created, job.updated, job.skipped, job.failed) == (1, 0, 0, 3)
    anna = Person.objects.get(full_name="Anna Petrova")
    assert (anna.owner, anna.kind, anna.city, anna.company.name) == (
        owner,
        "client",
        "Moscow",
        "Okna",
    )
    assert [p.value for p in anna.contact_points.all()] == [
        "+79123456789", "+49301234567", "anna@example.com",
    ]  # fmt: skip
    assert (anna.primary_phone, anna.primary_email) == ("+79123456789", "anna@example.com")
    assert sorted(anna.tags.values_list("name", flat=True)) == ["vip", "web"]
    assert timeline_of(anna).get(kind="created").data["import_id"] == job.pk
    from accord.core.search import search_ids

    for typed in ("8 912 345 67 89", "Petrova", "anna@example.com", "vip", "Okna"):
        assert search_ids("person", typed) == [anna.pk], typed
    reasons = {f.row: f.reason for f in job.failures.all()}
    assert "not a phone number" in reasons[3]
    assert "no name" in reasons[4]
    assert "No active user has the e-mail nobody@example.com" in reasons[5]
    assert Company.objects.filter(name="Okna").count() == 1


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1251", "utf-16"])
def test_a_russian_file_in_any_encoding(admin, encoding):
    header = ["Фамилия", "Имя", "Телефон"]
    job = upload(admin, [["Петров", "Иван", "+79123456789"]], header=header, encoding=encoding)
    assert job.mapping == {"0": "last_name", "1": "first_name", "2": "phone"}
    run(job)
    assert Person.objects.get().full_name == "Иван Петров"


def test_duplicates_by_email_are_skipped_updated_or_created_as_chosen(admin):
    person_create(
        actor=admin,
        data={"first_name": "Anna", "emails": [{"address": "anna@example.com", "label": ""}]},
    )
    rows = [["Anna P.", "+79123456789", "ANNA@example.com", "", "new", "Riga", "", ""]]
    skipped = run(upload(admin, rows, on_duplicate="skip"))
    assert (skipped.created, skipped.skipped) == (0, 1)
    updated = run(upload(admin, rows, on_duplicate="update"))
    assert (updated.created, updated.updated) == (0, 1)
    anna = Person.objects.get()
    assert (anna.full_name, anna.city, anna.primary_phone) == ("Anna P.", "Riga", "+79123456789")
    assert list(anna.tags.values_list("name", flat=True)) == ["new"]
    again = run(upload(admin, rows, on_duplicate="update"))
    assert (again.updated, again.skipped) == (0, 1)  # the same file changes nothing twice
    created = run(upload(admin, rows, on_duplicate="create"))
    assert created.created == 1 and Person.objects.count() == 2


def test_a_row_repeating_one_above_is_a_duplicate_too(admin):
    rows = [[f"Anna {n}", "", "anna@example.com", "", "", "", "", ""] for n in range(3)]
    job = run(upload(admin, rows, on_duplicate="skip"))
    assert (job.created, job.skipped) == (1, 2)


def test_only_what_the_importer_may_change_is_updated(admin, owner):
    head = user_create(email="head@example.com", password=PASSWORD, role="head-of-sales")
    person_create(
        actor=owner,
        data={"first_name": "Theirs", "emails": [{"address": "t@example.com", "label": ""}]},
    )
    rows = [["Mine now", "", "t@example.com", "", "", "", "", ""]]
    job = run(upload(head, rows, on_duplicate="update"))  # a head of another team
    assert job.failed == 1 and "not yours to change" in job.failures.get().reason
    assert Person.objects.get().full_name == "Theirs"


def test_an_import_is_undone_but_what_was_changed_since_is_kept(admin):
    person_create(
        actor=admin,
        data={"first_name": "Anna", "city": "Oslo",
              "emails": [{"address": "anna@example.com", "label": ""}]},
    )  # fmt: skip
    rows = [
        ["Anna", "+79123456789", "anna@example.com", "", "", "Riga", "", ""],
        ["Boris", "", "boris@example.com", "", "", "", "", ""],
        ["Vera", "", "vera@example.com", "", "", "", "", ""],
    ]
    job = run(upload(admin, rows, on_duplicate="update"))
    vera = Person.objects.get(first_name="Vera")
    person_update(actor=admin, person=vera, data={"city": "Tallinn"})
    result = services.import_undo(actor=admin, job=job)
    assert result == {"removed": 1, "restored": 1, "kept": 1}
    anna = Person.objects.get(first_name="Anna")
    assert (anna.city, anna.primary_phone) == ("Oslo", "")
    assert [p.value for p in anna.contact_points.all()] == ["anna@example.com"]
    assert not Person.objects.filter(first_name="Boris").exists()
    assert Person.objects.filter(first_name="Vera").exists()
    job.refresh_from_db()
    assert job.status == "undone"


class Killed(BaseException):
    """What kill -9 leaves: the worker gone mid-batch, nothing caught or marked."""


def test_a_crash_mid_way_resumes_from_the_last_batch_and_saves_no_row_twice(admin, monkeypatch):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from accord.transfer.importer import Importer

    monkeypatch.setitem(jobs.BATCHES, connection.vendor, 10)
    rows = [[f"P{n}", "", f"p{n}@example.com", "", "", "", "", ""] for n in range(35)]
    job = upload(admin, rows)
    services.import_start(actor=admin, job=job)
    real, calls = Importer.write, []

    def dies_on_the_third_batch(self, batch, checkpoint):
        calls.append(checkpoint)
        if len(calls) == 3:
            raise Killed
        return real(self, batch, checkpoint)

    monkeypatch.setattr(Importer, "write", dies_on_the_third_batch)
    with pytest.raises(Killed):
        services.import_run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.rows_done, Person.objects.count()) == ("running", 20, 20)
    assert services.imports_resume(timezone.now()) == 0  # not yet: it may still be working
    later = timezone.now() + services.STALE + timedelta(seconds=1)
    assert services.imports_resume(later) == 1  # queued again
    monkeypatch.setattr(Importer, "write", real)
    with time_machine.travel(later, tick=False):
        services.import_run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.created) == ("done", 35, 35)
    assert Person.objects.count() == 35
    assert sorted(Person.objects.values_list("first_name", flat=True)) == sorted(
        f"P{n}" for n in range(35)
    )


def test_the_set_up_is_checked(admin):
    job = upload(admin, [["Anna", "", "", "", "", "", "", ""]])
    job.status = "new"
    job.save()
    for mapping, match_by, field in (
        ({"1": "phone"}, "", "mapping"),
        ({"0": "full_name", "1": "city", "2": "city"}, "", "column_2"),
        ({"0": "full_name"}, "email", "match_by"),
        ({"0": "nonsense"}, "", "column_0"),
    ):
        with pytest.raises(ValidationError) as error:
            services.import_configure(
                actor=admin, job=job, mapping=mapping, match_by=match_by, on_duplicate="skip"
            )
        assert field in error.value.message_dict
    # Duplicates are found by any key: a file with phones and no e-mails finds them too.
    services.import_configure(actor=admin, job=job, mapping={"0": "full_name", "1": "phone"},
                              match_by="email", on_duplicate="skip")  # fmt: skip
    assert job.match_by == "email"


def test_the_setup_screen_asks_whether_to_find_duplicates_not_by_which_key(admin, admin_client):
    job = upload(admin, [["Anna", "8 912 345-67-89", "", "", "", "", "", ""]])
    job.status = "new"
    job.save()
    page = admin_client.get(f"/clients/import/{job.pk}/").content.decode()
    assert "Find duplicates" in page
    assert '<option value="email" selected>Yes: the same e-mail, phone or external id' in page
    assert '<option value="">No: every row is a new client</option>' in page
    assert '"phone">Phone</option>' not in page.split('name="match_by"')[1].split("</select>")[0]


def test_a_role_without_import_cannot_import(owner):
    with pytest.raises(PermissionDenied):  # a manager
        services.import_upload(
            actor=owner, upload=SimpleUploadedFile("a.csv", b"name\nA\n"), record_type="people"
        )


def test_a_binary_file_is_refused_and_not_kept(admin):
    with pytest.raises(ValidationError, match="binary"):
        services.import_upload(
            actor=admin, upload=SimpleUploadedFile("a.csv", bytes(range(256)) * 10),
            record_type="people",
        )  # fmt: skip
    assert not ImportJob.objects.exists()
