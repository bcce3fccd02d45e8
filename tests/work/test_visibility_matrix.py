# ruff: noqa: F811 (the shared `world` fixture is imported, then requested by name)
"""Who may list, open, change and close whose tasks — every shipped role, through the web
screens and the API. A task belongs to its assignee. 1 = allowed, 0 = refused (and then
the task is unchanged); a task one may not see is a 404. Tasks have no delete:
cancelling is the final action, and a DELETE changes nothing for anyone."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from accord.accounts.services import token_create
from accord.work.models import Task
from accord.work.services import task_create
from tests.conftest import ApiClient, log_in
from tests.contacts.test_visibility_matrix import me_in_sales, world  # noqa: F401 (fixture)

OWN, MATE, OTHER = 0, 1, 2  # my task, a teammate's, another team's
EXPECTED = {
    #                 list       detail     update     cancel
    "administrator": ((1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 1, 1)),
    "head-of-sales": ((1, 1, 1), (1, 1, 1), (1, 1, 0), (1, 1, 0)),
    "manager":       ((1, 1, 0), (1, 1, 0), (1, 0, 0), (1, 0, 0)),
    "marketing":     ((1, 0, 0), (1, 0, 0), (1, 0, 0), (1, 0, 0)),
    "support":       ((1, 1, 0), (1, 1, 0), (1, 0, 0), (1, 0, 0)),
    "read-only":     ((1, 1, 1), (1, 1, 1), (0, 0, 0), (0, 0, 0)),
    "own-only":      ((1, 0, 0), (1, 0, 0), (1, 0, 0), (1, 0, 0)),
}  # fmt: skip


def next_week() -> datetime.datetime:
    return (timezone.now() + datetime.timedelta(days=7)).replace(hour=10, minute=0)


def tasks_for(world, role):
    me = me_in_sales(world, role)
    rows = [
        task_create(
            actor=world["boss"],
            data={"title": f"Task of {who}", "assignee": assignee, "due_at": next_week()},
            allow_absent=True,
        )
        for who, assignee in [("me", me), ("mate", world["mate"]), ("other", world["other"])]
    ]
    return me, rows


def unchanged(row) -> bool:
    fresh = Task.objects.filter(pk=row.pk).first()
    return fresh is not None and (fresh.version, fresh.title, fresh.status) == (
        row.version,
        row.title,
        row.status,
    )


def edited(row) -> dict:
    due = timezone.localtime(row.due_at).date()
    return {"title": f"{row.title} (changed)", "kind": row.kind, "due_date": due.isoformat(),
            "due_time": timezone.localtime(row.due_at).strftime("%H:%M"),
            "assignee": row.assignee_id, "priority": row.priority,
            "remind_minutes": row.remind_minutes if row.remind_minutes is not None else "",
            "duration_minutes": row.duration_minutes or "", "version": row.version,
            "confirm_absent": "on"}  # fmt: skip


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_the_web_screens_follow_the_matrix(world, role):
    me, rows = tasks_for(world, role)
    client = Client()
    assert log_in(client, me.email)
    lists, details, updates, cancels = EXPECTED[role]
    listed = client.get("/tasks/?view=team").content.decode()
    for index, row in enumerate(rows):
        assert int(row.title in listed) == lists[index], ("list", row)
        detail = client.get(f"/tasks/{row.pk}/")
        assert detail.status_code == (200 if details[index] else 404), ("detail", row)
        changed = client.post(f"/tasks/{row.pk}/", edited(row))
        if updates[index]:
            assert changed.status_code == 302, ("update", row, changed.content.decode()[-3000:])
            row.refresh_from_db()
            assert row.title.endswith("(changed)")
        else:
            assert changed.status_code == 404, ("update", row)
            assert unchanged(row)
        cancelled = client.post(f"/tasks/{row.pk}/cancel/")
        if cancels[index]:
            row.refresh_from_db()
            assert row.status == Task.CANCELLED, ("cancel", row)
        else:
            assert cancelled.status_code == (302 if details[index] else 404), ("cancel", row)
            assert unchanged(row)


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_the_api_follows_the_matrix(world, role):
    me, rows = tasks_for(world, role)
    api = ApiClient(token_create(user=me, name="matrix")[1])
    lists, details, updates, cancels = EXPECTED[role]
    listed = {item["id"] for item in api.get("/api/v1/tasks?limit=200").json()["items"]}
    for index, row in enumerate(rows):
        url = f"/api/v1/tasks/{row.pk}"
        assert int(str(row.pk) in listed) == lists[index], ("list", row)
        detail = api.get(url)
        assert detail.status_code == (200 if details[index] else 404), ("detail", row)
        patched = api.patch(url, {"title": "Changed"}, content_type="application/json")
        if updates[index]:
            assert patched.status_code == 200, ("update", row)
            row.refresh_from_db()
            assert row.title == "Changed"
        else:
            assert patched.status_code == (403 if details[index] else 404), ("update", row)
            assert unchanged(row)
        cancelled = api.post(f"{url}/cancel")
        if cancels[index]:
            assert cancelled.status_code == 200, ("cancel", row)
            row.refresh_from_db()
            assert row.status == Task.CANCELLED
        else:
            assert cancelled.status_code == (403 if details[index] else 404), ("cancel", row)
            assert unchanged(row)
        deleted = api.delete(url)
        assert deleted.status_code in (404, 405), ("delete", row)
        assert Task.objects.filter(pk=row.pk).exists()
