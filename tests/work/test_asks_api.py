"""A task that asks for its deal's fields, through the API: `asks` shown and accepted on
tasks, `fields` accepted by the complete endpoint, a 422 naming each field otherwise."""

from datetime import timedelta

from django.utils import timezone

from accord.accounts.services import token_create
from accord.sales.models import Deal
from accord.work.models import Task
from tests.conftest import ApiClient
from tests.work.conftest import COUNT, SIZES


def later(hours=24) -> str:
    return (timezone.now() + timedelta(hours=hours)).isoformat()


def test_a_task_asking_for_sizes_is_made_shown_and_completed_by_the_measurer(
    admin, measurer, window_deal
):
    boss = ApiClient(token_create(user=admin, name="tests")[1])
    created = boss.post_json(
        "/api/v1/tasks",
        {"title": "Take measurements", "kind": "visit", "due_at": later(),
         "assignee": str(measurer.pk), "deal": str(window_deal.pk), "asks": [COUNT, SIZES]},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    assert created.json()["asks"] == [COUNT, SIZES]
    url = created["Location"]
    mark = ApiClient(token_create(user=measurer, name="phone")[1])
    assert mark.get(url).json()["asks"] == [COUNT, SIZES]

    missing = mark.post_json(f"{url}/complete", {"result": "Measured"})
    assert missing.status_code == 422
    assert {e["field"] for e in missing.json()["errors"]} == {COUNT, SIZES}
    wrong = mark.post_json(
        f"{url}/complete", {"fields": {COUNT: "three", SIZES: "1200×1400", "amount": "10"}}
    )
    assert wrong.status_code == 422
    assert {e["field"] for e in wrong.json()["errors"]} == {"amount"}
    bad = mark.post_json(f"{url}/complete", {"fields": {COUNT: "three", SIZES: "1200×1400"}})
    assert [(e["field"], e["message"]) for e in bad.json()["errors"]] == [
        (COUNT, "Enter a number.")
    ]
    assert Task.objects.get().status == "open"

    done = mark.post_json(
        f"{url}/complete", {"result": "Measured", "fields": {COUNT: 3, SIZES: "1200×1400"}}
    )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "done"
    deal = mark.get(f"/api/v1/deals/{window_deal.pk}").json()
    assert deal["custom_fields"] == {"number_of_windows": 3, "window_sizes": "1200×1400"}
    # The task granted those fields on completion, not the deal.
    patch = mark.patch_json(f"/api/v1/deals/{window_deal.pk}", {"title": "Mine now"})
    assert patch.status_code in (403, 404)
    assert Deal.objects.get().title == "3 windows"


def test_asks_are_checked_on_create_and_change(api, window_deal):
    unknown = api.post_json(
        "/api/v1/tasks",
        {"title": "Measure", "due_at": later(), "deal": str(window_deal.pk),
         "asks": ["custom_fields.colour"]},
    )  # fmt: skip
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "asks"
    no_deal = api.post_json("/api/v1/tasks", {"title": "Measure", "due_at": later(),
                                              "asks": [SIZES]})  # fmt: skip
    assert no_deal.status_code == 422 and no_deal.json()["errors"][0]["field"] == "asks"
    made = api.post_json("/api/v1/tasks", {"title": "Call", "due_at": later(),
                                           "deal": str(window_deal.pk)})  # fmt: skip
    assert made.json()["asks"] == []
    changed = api.patch_json(made["Location"], {"asks": ["amount", "expected_close_date"]})
    assert changed.json()["asks"] == ["amount", "expected_close_date"]
    plain = api.post_json(f"{made['Location']}/complete", {"fields": {}})
    assert plain.status_code == 422
    assert {e["field"] for e in plain.json()["errors"]} == {"amount", "expected_close_date"}
