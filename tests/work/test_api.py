"""Tasks, activities and notifications through the API."""

from datetime import timedelta
from urllib.parse import quote

from django.utils import timezone

from accord.contacts.services import person_create
from accord.work.models import Task


def later(hours=2) -> str:
    return (timezone.now() + timedelta(hours=hours)).isoformat()


def test_a_task_is_created_rescheduled_with_if_match_and_completed_with_a_call(api, owner):
    anna = person_create(actor=owner, data={"first_name": "Anna"})
    created = api.post_json(
        "/api/v1/tasks",
        {"title": "Call Anna", "kind": "call", "due_at": later(), "person": str(anna.pk)},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["assignee"], body["person"], body["status"], body["overdue"]) == (
        str(owner.pk),
        str(anna.pk),
        "open",
        False,
    )
    url = created["Location"]
    moved = api.post_json(
        f"{url}/reschedule", {"due_at": later(24)}, headers={"If-Match": created["ETag"]}
    )
    assert moved.status_code == 200
    stale = api.post_json(
        f"{url}/reschedule", {"due_at": later(48)}, headers={"If-Match": created["ETag"]}
    )
    assert stale.status_code == 412
    done = api.post_json(
        f"{url}/complete",
        {"result": "Talked", "call": {"outcome": "reached", "duration_minutes": 3}},
    )
    assert done.json()["status"] == "done"
    calls = api.get(f"/api/v1/activities?person={anna.pk}").json()["items"]
    assert [(c["kind"], c["outcome"], c["text"]) for c in calls] == [("call", "reached", "Talked")]


def test_bad_tasks_are_problems_naming_the_field(api, owner):
    past = api.post_json("/api/v1/tasks", {"title": "Late", "due_at": later(-5)})
    assert past.status_code == 422 and "due_at" in past.content.decode()
    assert (
        api.post_json(
            "/api/v1/tasks", {"title": "Late", "due_at": later(-5), "allow_past": True}
        ).status_code
        == 201
    )
    nobody = api.post_json("/api/v1/tasks", {"title": "X", "due_at": later(), "person": "999"})
    assert nobody.status_code == 422 and "person" in nobody.content.decode()
    assert api.get("/api/v1/tasks?colour=red").status_code == 400
    assert api.get("/api/v1/tasks?sort=title").status_code == 400
    assert Task.objects.count() == 1


def test_the_list_filters_and_the_notifications_read(api, owner, admin):
    from accord.work.services import task_create

    task_create(
        actor=admin,
        data={
            "title": "For Olivia",
            "assignee": owner,
            "due_at": timezone.now() + timedelta(hours=3),
        },
    )
    task_create(actor=owner, data={"title": "Own", "due_at": timezone.now() + timedelta(days=3)})
    before = quote(later(24))
    soon = api.get(f"/api/v1/tasks?assignee=me&due_before={before}").json()["items"]
    assert [t["title"] for t in soon] == ["For Olivia"]
    notices = api.get("/api/v1/notifications?unread=true").json()["items"]
    assert [n["kind"] for n in notices] == ["assigned"]
    assert "For Olivia" in notices[0]["text"]
    assert api.post_json("/api/v1/notifications/read", {}).json() == {"marked": 1}
    assert api.get("/api/v1/notifications?unread=true").json()["items"] == []
