"""Tasks and activities through the services: checks, timelines, notices, visibility."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accord.accounts.models import Role
from accord.accounts.services import role_save, user_create
from accord.contacts.services import person_create
from accord.core.timeline import timeline_of
from accord.core.visibility import RECORD_TYPES
from accord.work.models import Activity, Notification, Task
from accord.work.queries import tasks_visible_to
from accord.work.services import activity_log, task_complete, task_create, task_update
from tests.conftest import PASSWORD


@pytest.fixture
def own_only(admin):
    access = {kind: {"read": "own", "write": "own"} for kind in RECORD_TYPES}
    role_save(actor=admin, name="Own only", access=access, capabilities=[])
    slug = Role.objects.get(name="Own only").slug
    return user_create(email="own@example.com", password=PASSWORD, role=slug, full_name="Oscar")


def soon(hours=2):
    return timezone.now() + timedelta(hours=hours)


def test_a_due_time_in_the_past_is_a_warning_that_can_be_overridden(owner):
    with pytest.raises(ValidationError) as error:
        task_create(actor=owner, data={"title": "Call", "due_at": soon(-3)})
    assert "in the past" in str(error.value.message_dict["due_at"])
    assert not Task.objects.exists()
    task = task_create(actor=owner, data={"title": "Call", "due_at": soon(-3)}, allow_past=True)
    assert task.is_overdue


def test_bad_fields_are_refused_by_name_and_nothing_is_saved(owner):
    with pytest.raises(ValidationError) as error:
        task_create(
            actor=owner,
            data={
                "title": " ",
                "kind": "dance",
                "due_at": "tomorrow",
                "duration_minutes": -5,
                "remind_minutes": 99999,
            },
        )
    assert set(error.value.message_dict) == {
        "title",
        "kind",
        "due_at",
        "duration_minutes",
        "remind_minutes",
    }
    assert not Task.objects.exists()


def test_an_assignee_who_cannot_see_the_client_is_refused_with_their_name(owner, own_only):
    anna = person_create(actor=owner, data={"first_name": "Anna"})
    with pytest.raises(ValidationError) as error:
        task_create(
            actor=owner,
            data={
                "title": "Call Anna",
                "due_at": soon(),
                "assignee": own_only,
                "person": anna,
            },
        )
    assert "Oscar cannot see Anna" in error.value.message_dict["person"][0]


def test_a_task_for_someone_else_tells_them_and_shows_on_the_clients_timeline(owner, admin):
    anna = person_create(actor=owner, data={"first_name": "Anna"})
    task = task_create(
        actor=admin,
        data={"title": "Call Anna", "due_at": soon(), "assignee": owner, "person": anna},
    )
    assert Notification.objects.get(user=owner).kind == "assigned"
    added = timeline_of(anna).get(kind="task_added")
    assert (added.data["task_id"], added.data["title"]) == (task.pk, "Call Anna")


def test_completing_a_call_task_logs_the_call_on_the_client_and_the_deal(owner, pipeline):
    from accord.sales.services import deal_create

    anna = person_create(actor=owner, data={"first_name": "Anna"})
    deal = deal_create(actor=owner, data={"title": "Windows", "person": anna})
    task = task_create(
        actor=owner,
        data={"title": "Call Anna", "kind": "call", "due_at": soon(), "person": anna, "deal": deal},
    )
    task_complete(
        actor=owner,
        task=task,
        result="She wants white frames",
        call={"direction": "out", "outcome": "reached", "duration_minutes": 6},
    )
    call = Activity.objects.get()
    assert (call.kind, call.outcome, call.duration_minutes, call.task) == (
        "call",
        "reached",
        6,
        task,
    )
    for subject in (anna, deal):
        logged = timeline_of(subject).get(kind="activity")
        assert logged.data["text"] == "She wants white frames"
    anna.refresh_from_db()
    assert anna.last_contact_at == call.occurred_at
    with pytest.raises(ValidationError):
        task_complete(actor=owner, task=task)  # already done


def test_an_activity_names_a_client_happens_in_the_past_and_a_note_has_text(owner):
    anna = person_create(actor=owner, data={"first_name": "Anna"})
    for data, field in [
        ({"kind": "call"}, "person"),
        ({"kind": "call", "person": anna, "occurred_at": soon(24)}, "occurred_at"),
        ({"kind": "note", "person": anna}, "text"),
        ({"kind": "fax", "person": anna}, "kind"),
    ]:
        with pytest.raises(ValidationError) as error:
            activity_log(actor=owner, data=data)
        assert field in error.value.message_dict
    assert not Activity.objects.exists()


def test_a_call_logged_late_leaves_the_clients_last_contact_at_the_later_one(owner):
    anna = person_create(actor=owner, data={"first_name": "Anna"})
    today = activity_log(actor=owner, data={"kind": "call", "person": anna})
    activity_log(actor=owner, data={"kind": "call", "person": anna, "occurred_at": soon(-48)})
    anna.refresh_from_db()
    assert anna.last_contact_at == today.occurred_at


def test_tasks_follow_the_visibility_of_their_assignee(owner, own_only, admin):
    mine = task_create(actor=own_only, data={"title": "Mine", "due_at": soon()})
    task_create(actor=owner, data={"title": "Olivia's", "due_at": soon()})
    assert list(tasks_visible_to(own_only)) == [mine]
    assert tasks_visible_to(admin).count() == 2
    with pytest.raises(ValidationError):  # own-level may not give tasks to others
        task_create(
            actor=own_only, data={"title": "For Olivia", "due_at": soon(), "assignee": owner}
        )
    with pytest.raises(PermissionDenied):
        task_update(actor=own_only, task=Task.objects.get(title="Olivia's"), data={"title": "X"})


def test_changing_the_due_time_is_on_the_tasks_own_history(owner):
    task = task_create(actor=owner, data={"title": "Call", "due_at": soon()})
    task_update(actor=owner, task=task, data={"due_at": soon(5), "title": "Call back"})
    changed = timeline_of(task).get(kind="changed")
    assert {c["field"] for c in changed.data["changes"]} == {"due_at", "title"}
