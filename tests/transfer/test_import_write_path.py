"""An import writes through the contacts services: its new clients start the rules on
"client created" (queued to the worker, one run each, none when the user ticks "Don't run
automation"), a team's lead rule hands them out, a realistic file's repeats are one
person whatever key they share, the same file again changes nothing, and undo removes
what the import made."""

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from accord.accounts.models import Team
from accord.accounts.services import team_save, user_create
from accord.automation import scheduler
from accord.automation.models import Run
from accord.automation.services import rule_save
from accord.contacts.models import Person
from accord.contacts.services import person_create
from accord.core.events import subscribe, unsubscribe
from accord.core.models import TimelineEvent
from accord.core.search import search_ids
from accord.core.timeline import timeline_of
from accord.transfer import jobs, services
from accord.transfer.models import ImportJob
from accord.work.models import LeadAssignment, Task
from bench.realistic import FORMATS, write_file
from tests.conftest import PASSWORD

HEADER = ["Name", "Phone", "E-mail", "Owner", "External id"]
MONDAY_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CALL_NEW_CLIENTS = {
    "name": "Call new clients",
    "subject": "person",
    "trigger": "created",
    "enabled": True,
    "actions": [
        {
            "type": "create_task",
            "params": {
                "title": "Call {{ person.first_name }}",
                "assignee": {"to": "owner"},
                "due_in": {"amount": 1, "unit": "days"},
            },
        }
    ],
}


def upload(actor, rows, *, header=HEADER, data=None, name="people.csv", **setup):
    if data is None:
        text = io.StringIO()
        csv.writer(text).writerows([header, *rows])
        data = text.getvalue().encode()
    job = services.import_upload(
        actor=actor, upload=SimpleUploadedFile(name, data), record_type="people"
    )
    services.import_configure(
        actor=actor,
        job=job,
        mapping=setup.pop("mapping", job.mapping),
        match_by=setup.pop("match_by", "email"),
        on_duplicate=setup.pop("on_duplicate", "update"),
        **setup,
    )
    return job


def run(job) -> ImportJob:
    services.import_start(actor=job.created_by, job=job)
    services.import_run(job.pk)
    job.refresh_from_db()
    return job


class Recorder:
    """The domain events about people and companies, as subscribers receive them."""

    def __init__(self):
        self.events = []

    def __call__(self, event):
        if event.name.split(".")[0] in ("person", "company"):
            self.events.append(event)

    def names(self) -> list[str]:
        return [event.name for event in self.events]


@pytest.fixture
def events():
    recorder = Recorder()
    subscribe("*")(recorder)
    yield recorder
    unsubscribe(recorder)


ROWS = [
    ["Anna Petrova", "+7 (915) 123-45-67", "anna@example.com", "", ""],
    ["Boris Ivanov", "", "boris@example.com", "", ""],
    ["Anna Petrova", "8 915 1234567", "", "", ""],  # Anna again: her phone, typed otherwise
    ["Vera Smirnova", "+7 916 000-11-22", "", "", ""],
    ["Boris Ivanov", "", "BORIS@Example.COM", "", ""],  # Boris again: the e-mail in capitals
]


@pytest.mark.django_db(transaction=True)
def test_a_rule_on_new_clients_makes_one_task_per_imported_client_in_the_worker(admin, events):
    rule_save(actor=admin, data=CALL_NEW_CLIENTS)
    job = run(upload(admin, ROWS))
    assert (job.created, job.failed) == (3, 0)
    people = list(Person.objects.order_by("pk"))
    assert [p.full_name for p in people] == ["Anna Petrova", "Boris Ivanov", "Vera Smirnova"]
    # One event per new client, with the single-record service's payload and the import
    # as its cause.
    created = [e for e in events.events if e.name == "person.created"]
    assert [e.payload for e in created] == [
        {"person_id": p.pk, "actor_id": admin.pk} for p in people
    ]
    assert {e.cause["import"] for e in created} == {job.pk}
    # Queued for the worker, not run inside the import's transaction.
    assert not Task.objects.exists()
    assert list(Run.objects.values_list("status", "depth")) == [("queued", 0)] * 3
    scheduler.tick(timezone.now())
    tasks = list(Task.objects.order_by("person_id").values_list("title", "assignee", "person"))
    assert tasks == [(f"Call {p.first_name}", admin.pk, p.pk) for p in people]
    # The same file again changes nothing: no event, no run, no task.
    events.events.clear()
    again = run(upload(admin, ROWS))
    assert (again.created, again.updated, again.skipped) == (0, 0, 5)
    assert events.names() == []
    scheduler.tick(timezone.now())
    assert Task.objects.count() == 3 and Run.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_with_automation_turned_off_for_the_import_no_rule_runs(admin, events):
    rule_save(actor=admin, data=CALL_NEW_CLIENTS)
    job = run(upload(admin, ROWS, run_automation=False))
    assert job.created == 3 and job.run_automation is False
    assert events.names().count("person.created") == 3  # announced all the same
    scheduler.tick(timezone.now())
    assert not Run.objects.exists() and not Task.objects.exists()
    # A client created by hand afterwards still gets its task.
    person_create(actor=admin, data={"first_name": "Gleb"})
    assert Task.objects.get().title == "Call Gleb"


@pytest.mark.django_db(transaction=True)
def test_the_flood_guard_does_not_pause_a_rule_for_an_import(admin):
    rule = rule_save(actor=admin, data={**CALL_NEW_CLIENTS, "trigger": "updated",
                                        "flood_limit": 3})  # fmt: skip
    person = person_create(actor=admin, data={"first_name": "Anna", "emails": ["a@example.com"]})
    for n in range(5):  # the same client changed by five imports within a minute
        run(upload(admin, [["Anna", "", "a@example.com", "", f"ext-{n}"]]))
        scheduler.tick(timezone.now())
    rule.refresh_from_db()
    assert (rule.paused_at, rule.paused_reason) == (None, "")
    assert Task.objects.filter(person=person).count() == 5


def test_the_teams_lead_rule_hands_out_the_imported_leads(admin, owner):
    members = [
        user_create(email=f"m{n}@example.com", password=PASSWORD, role="manager",
                    full_name=f"Member {n}")
        for n in range(2)
    ]  # fmt: skip
    team = team_save(
        actor=admin, name="Sales", head=None, members=members, lead_rule=Team.ROUND_ROBIN
    )
    rows = [
        ["Lead 0", "", "l0@example.com", "", ""],
        ["Lead 1", "", "l1@example.com", "", ""],
        ["Lead 2", "", "l2@example.com", owner.email, ""],  # the file names its owner
        ["Lead 3", "", "l3@example.com", "", ""],
    ]
    with time_machine.travel(MONDAY_NOON, tick=False):
        job = run(upload(admin, rows, team=team))
    owners = dict(Person.objects.values_list("first_name", "owner__email"))
    assert owners == {
        "Lead 0": "m0@example.com",
        "Lead 1": "m1@example.com",
        "Lead 2": owner.email,
        "Lead 3": "m0@example.com",
    }
    assert LeadAssignment.objects.count() == 3
    lead = Person.objects.get(first_name="Lead 1")
    assert timeline_of(lead).get(kind="assigned").data["team"] == "Sales"
    # Undo still removes them: the assignment is part of what the import did.
    assert services.import_undo(actor=admin, job=job)["removed"] == 4


def test_a_team_that_hands_out_no_leads_is_refused_at_set_up(admin):
    team = team_save(actor=admin, name="Support", head=None, members=[], lead_rule="")
    with pytest.raises(Exception, match="does not distribute leads"):
        upload(admin, ROWS, team=team)


@pytest.mark.parametrize("file_format", list(FORMATS))
def test_a_realistic_file_twice_gives_its_distinct_people_and_changes_nothing_the_second_time(
    admin, file_format, monkeypatch, tmp_path, django_capture_on_commit_callbacks, events
):
    # repeats across batches, and inside them
    monkeypatch.setitem(jobs.BATCHES, connection.vendor, 70)
    encoding, delimiter = FORMATS[file_format]
    path = tmp_path / "clients.csv"
    distinct = write_file(path, 400, encoding=encoding, delimiter=delimiter, seed=3)
    with django_capture_on_commit_callbacks(execute=True):  # its events announced now
        first = run(upload(admin, [], data=path.read_bytes()))
    assert (first.encoding, first.failed, first.rows_done) == (encoding, 0, 400)
    assert events.names().count("person.created") == distinct
    events.events.clear()
    assert Person.objects.count() == first.created == distinct
    assert first.created + first.updated + first.skipped == 400
    versions = dict(Person.objects.values_list("pk", "version"))
    entries = TimelineEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        second = run(upload(admin, [], data=path.read_bytes()))
    assert (second.created, second.updated, second.skipped) == (0, 0, 400)
    assert dict(Person.objects.values_list("pk", "version")) == versions
    assert TimelineEvent.objects.count() == entries
    assert events.names() == []


def test_a_row_matches_on_any_key_and_rows_sharing_a_key_are_one_person(admin, events):
    existing = person_create(
        actor=admin,
        data={"first_name": "Anna", "phones": ["+7 915 123-45-67"],
              "emails": ["anna@example.com"]},
    )  # fmt: skip
    Person.objects.filter(pk=existing.pk).update(external_id="crm-1")
    rows = [
        ["Anna", "8 (915) 123 45 67", "", "", ""],  # her phone, typed otherwise
        ["Anna", "", "ANNA@EXAMPLE.COM", "", ""],  # her e-mail, in capitals
        ["Anna", "", "", "", "crm-1"],  # her id in the old CRM
        ["Boris", "", "boris@example.com", "", ""],
        ["Boris", "+7 916 000-11-22", "boris@example.com", "", ""],  # Boris, with a phone
        ["Boris", "8 916 0001122", "", "", "crm-2"],  # ... and by that phone, an id
    ]
    job = run(upload(admin, rows))
    assert (job.created, job.failed) == (1, 0)
    assert Person.objects.count() == 2
    boris = Person.objects.get(first_name="Boris")
    assert (boris.external_id, boris.primary_phone) == ("crm-2", "+79160001122")
    assert [p.value for p in boris.contact_points.all()] == ["+79160001122", "boris@example.com"]
    assert Person.objects.get(pk=existing.pk).version == existing.version  # nothing new
    assert events.names() == []  # not committed in this test: nothing announced yet


def test_undo_removes_what_the_import_made_through_the_services(
    admin, django_capture_on_commit_callbacks, events
):
    anna = person_create(actor=admin, data={"first_name": "Anna", "city": "Oslo",
                                             "emails": ["anna@example.com"]})  # fmt: skip
    rows = [
        ["Anna", "+7 915 123-45-67", "anna@example.com", "", ""],
        ["Boris", "", "boris@example.com", "", ""],
    ]
    job = run(upload(admin, rows))
    boris = Person.objects.get(first_name="Boris")
    assert search_ids("person", "Boris") == [boris.pk]
    with django_capture_on_commit_callbacks(execute=True):
        result = services.import_undo(actor=admin, job=job)
    assert result == {"removed": 1, "restored": 1, "kept": 0}
    assert not Person.objects.filter(pk=boris.pk).exists()
    assert search_ids("person", "Boris") == []
    anna = Person.objects.get(pk=anna.pk)
    assert (anna.primary_phone, [p.value for p in anna.contact_points.all()]) == (
        "",
        ["anna@example.com"],
    )
    assert timeline_of(anna).filter(kind="changed").count() == 2  # the import, its undo
    deleted = [e for e in events.events if e.name == "person.deleted"]
    assert [e.payload["person_id"] for e in deleted] == [boris.pk]
    assert deleted[0].payload["display_name"] == "Boris"
    assert deleted[0].cause == {"import": job.pk, "automation": True, "undo": True}
    assert "person.updated" in events.names()


def test_the_import_screen_turns_automation_off(admin_client, admin):
    job = services.import_upload(
        actor=admin,
        upload=SimpleUploadedFile("p.csv", b"Name,E-mail\nAnna,a@example.com\n"),
        record_type="people",
    )
    page = admin_client.get(f"/clients/import/{job.pk}/")
    assert "Don&#x27;t run automation for this import" in page.content.decode()
    response = admin_client.post(
        f"/clients/import/{job.pk}/",
        {"column_0": "full_name", "column_1": "email", "match_by": "email",
         "on_duplicate": "skip", "no_automation": "on", "start": "1"},
    )  # fmt: skip
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.run_automation) == ("queued", False)


def test_the_command_line_turns_automation_off(admin, tmp_path, capsys):
    from django.core.management import call_command

    path = tmp_path / "people.csv"
    path.write_text("Name,E-mail\nAnna,a@example.com\n", encoding="utf-8")
    call_command("importfile", str(path), no_automation=True)
    job = ImportJob.objects.get()
    assert (job.status, job.created, job.run_automation) == ("done", 1, False)
    assert "1 created" in capsys.readouterr().out
