"""What changes for a file of several batches: it is cleaned in a thread while the
batches before are written; and an import that at least doubles a table loads it
without the list indexes, building them again at the end, also after a crash."""

import sys

import pytest
from django.db import connection

from accord.contacts.models import Person
from accord.contacts.services import person_create
from accord.transfer import cleaning, jobs, services
from accord.transfer.importer import Importer
from tests.transfer.test_import import run, upload

SORT_INDEX = "person_city_sort"  # one of the people list's sort orders


def indexes() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, "contacts_person"))


def rows(count: int) -> list[list[str]]:
    return [[f"P{n}", "", f"p{n}@example.com", "", "", f"City {n % 3}", "", ""]
            for n in range(count)]  # fmt: skip


@pytest.fixture
def indexes_during_writes(monkeypatch):
    """The person table's indexes as each batch is written."""
    real, seen = Importer.write, []

    def write(self, batch, checkpoint):
        seen.append(indexes())
        return real(self, batch, checkpoint)

    monkeypatch.setattr(Importer, "write", write)
    return seen


def test_a_big_import_into_a_small_table_loads_without_list_indexes(
    admin, monkeypatch, indexes_during_writes
):
    monkeypatch.setattr(jobs, "BULK_ROWS", 6)
    monkeypatch.setitem(jobs.BATCHES, connection.vendor, 4)
    person_create(actor=admin, data={"first_name": "Already", "city": "Here"})
    job = run(upload(admin, rows(8)))
    assert (job.status, job.created, job.indexes_aside) == ("done", 8, False)
    assert len(indexes_during_writes) == 2
    assert all(SORT_INDEX not in present for present in indexes_during_writes)
    assert all("person_external_id" in present for present in indexes_during_writes)
    after = indexes()
    assert {index.name for index in Person._meta.indexes} <= after
    cities = list(Person.objects.order_by("city", "id").values_list("city", flat=True))
    assert cities == sorted(cities)


def test_an_import_into_a_bigger_table_keeps_the_indexes(admin, monkeypatch, indexes_during_writes):
    monkeypatch.setattr(jobs, "BULK_ROWS", 2)
    for n in range(4):
        person_create(actor=admin, data={"first_name": f"Old {n}"})
    job = run(upload(admin, rows(3)))
    assert (job.status, job.created) == ("done", 3)
    assert all(SORT_INDEX in present for present in indexes_during_writes)


def test_indexes_a_crashed_import_set_aside_are_built_when_it_resumes(admin, monkeypatch):
    """kill -9 leaves the job running with the indexes aside: the resumed run builds them."""
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from accord.core.bulk import drop_indexes, list_indexes
    from accord.transfer.models import ImportJob

    job = upload(admin, rows(5))
    services.import_start(actor=admin, job=job)
    aside = list_indexes(Person, keep=jobs.KEPT_INDEXES)
    drop_indexes(Person, aside)
    ImportJob.objects.filter(pk=job.pk).update(
        status="running", indexes_aside=True, rows_total=5, rows_done=2, beat_at=timezone.now()
    )
    assert SORT_INDEX not in indexes()
    later = timezone.now() + services.STALE + timedelta(seconds=1)
    assert services.imports_resume(later) == 1
    with time_machine.travel(later, tick=False):
        services.import_run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.created, job.indexes_aside) == ("done", 5, 3, False)
    assert {index.name for index in aside} <= indexes()


def test_a_file_of_several_batches_is_cleaned_beside_the_writing_with_the_same_result(
    admin, owner, monkeypatch
):
    # nine rows: three batches, cleaned in a thread
    monkeypatch.setitem(jobs.BATCHES, connection.vendor, 3)
    job = run(
        upload(
            admin,
            [
                ["Anna Petrova", "8 (912) 345-67-89", "anna@example.com", "Okna", "vip",
                 "Moscow", owner.email, "client"],
                ["Boris", "not a phone", "", "", "", "", "", ""],
                ["Vera", "", "vera@example.com", "", "", "", "nobody@example.com", ""],
                *rows(5),
                ["Anna again", "", "ANNA@example.com", "", "", "", "", ""],
            ],
        )
    )  # fmt: skip
    assert (job.status, job.created, job.skipped, job.failed) == ("done", 6, 1, 2)
    anna = Person.objects.get(primary_email="anna@example.com")
    assert (anna.primary_phone, anna.owner_id, anna.kind, anna.company.name) == (
        "+79123456789",
        owner.pk,
        "client",
        "Okna",
    )
    reasons = dict(job.failures.values_list("row", "reason"))
    assert "is not a phone number" in reasons[3]
    assert "nobody@example.com" in reasons[4]


def test_a_file_problem_found_by_the_cleaning_thread_stops_the_import_with_the_reason(
    admin, monkeypatch
):
    from accord.transfer.models import ImportJob

    monkeypatch.setitem(jobs.BATCHES, connection.vendor, 1000)  # a file of three batches
    job = upload(admin, rows(3000))
    with open(job.file.path, "ab") as stream:  # changed on the disk after it was counted
        stream.write("Ирина,,,,,,,\r\n".encode("cp1251"))
    ImportJob.objects.filter(pk=job.pk).update(rows_total=3001)
    job = run(job)
    assert job.status == "failed"
    assert 0 < job.rows_done < 3001
    assert f"Stopped after row {job.rows_done + 1}" in job.error
    assert "is not in UTF-8" in job.error
    assert Person.objects.count() == job.rows_done


def cleaning_threads() -> list:
    import threading

    return [t for t in threading.enumerate() if t.name == "accord-import-cleaner"]


def test_a_failing_batch_stops_the_import_and_its_cleaning_thread(admin, monkeypatch):
    """The writer fails at its second batch: the import stops with the reason, the first
    batch stays saved with its checkpoint, and the thread cleaning ahead ends too."""
    real, written = Importer.write, []

    def write(self, batch, checkpoint):
        if written:
            raise RuntimeError("the disk is full")
        written.append(checkpoint)
        return real(self, batch, checkpoint)

    monkeypatch.setattr(Importer, "write", write)
    monkeypatch.setitem(jobs.BATCHES, connection.vendor, 10)
    job = upload(admin, rows(200))
    before = sys.getswitchinterval()
    with pytest.raises(RuntimeError, match="the disk is full"):
        run(job)
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.created) == ("failed", 10, 10)
    assert "the disk is full" in job.error
    assert Person.objects.count() == 10
    assert not cleaning_threads()
    # The quicker handover between the threads was for the import only: whatever runs next
    # in the worker's process switches as Python does again.
    assert sys.getswitchinterval() == before


def test_threads_hand_the_interpreter_over_quickly_while_an_import_is_cleaned_beside_it(
    admin, monkeypatch
):
    real, seen = Importer.write, []

    def write(self, batch, checkpoint):
        seen.append(sys.getswitchinterval())
        return real(self, batch, checkpoint)

    monkeypatch.setattr(Importer, "write", write)
    monkeypatch.setitem(jobs.BATCHES, connection.vendor, 10)
    before = sys.getswitchinterval()
    job = run(upload(admin, rows(30)))
    assert (job.status, job.created) == ("done", 30)
    assert seen == [cleaning.HANDOVER_SECONDS] * 3
    assert sys.getswitchinterval() == before


def test_a_fault_in_the_cleaning_reaches_the_import_as_its_error(admin, monkeypatch):
    real = cleaning.Cleaner.clean

    def clean(self, number, raw):
        if number == 25:
            raise ValueError("a bug in the cleaning")
        return real(self, number, raw)

    monkeypatch.setattr(cleaning.Cleaner, "clean", clean)
    monkeypatch.setitem(jobs.BATCHES, connection.vendor, 10)
    job = upload(admin, rows(100))
    with pytest.raises(ValueError, match="a bug in the cleaning"):
        run(job)
    job.refresh_from_db()
    assert job.status == "failed" and "a bug in the cleaning" in job.error
    assert job.rows_done == Person.objects.count() == 20  # the batches before the fault
    assert not cleaning_threads()


def children(pid: int) -> list[int]:
    from pathlib import Path

    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid):
            found.append(int(stat.parent.name))
    return found


def database_url() -> str:
    """The test database as a URL, for a worker process of its own."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_import_resumes_and_saves_no_row_twice(admin, settings):
    """A real worker process, killed with SIGKILL in the middle of a file (cleaned in a
    thread beside the writing); the import resumed in another adds the rest."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from accord.transfer.models import ImportJob

    total = 50_000
    job = upload(admin, rows(total))
    services.import_start(actor=admin, job=job)
    env = {**os.environ, "DATABASE_URL": database_url(), "ACCORD_DATA_DIR": str(settings.DATA_DIR),
           "ACCORD_PHONE_REGION": "RU"}  # fmt: skip
    code = "import django; django.setup(); from accord.transfer import services; "
    worker = subprocess.Popen(
        [sys.executable, "-c", code + f"services.import_run({job.pk})"], env=env
    )
    try:
        deadline = time.monotonic() + 120
        while ImportJob.objects.get(pk=job.pk).rows_done < 3 * services.BATCHES[connection.vendor]:
            assert worker.poll() is None, "the worker ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert not children(worker.pid)  # nothing that could outlive it
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    job.refresh_from_db()
    assert job.status == "running"
    assert 0 < job.rows_done < total
    assert Person.objects.count() == job.created == job.rows_done  # whole batches only
    later = timezone.now() + services.STALE + timedelta(seconds=1)
    assert services.imports_resume(later) == 1
    with time_machine.travel(later, tick=False):
        services.import_run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.created, job.failed) == ("done", total, total, 0)
    assert Person.objects.count() == total
    assert Person.objects.values("primary_email").distinct().count() == total
