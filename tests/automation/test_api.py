"""The automation API: rules made, changed (a new version), refused with where the
mistake is, turned on, tested on a record; their runs; blueprints installed."""

import pytest

from accord.sales.services import deal_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_api(admin):
    from accord.accounts.services import token_create
    from tests.conftest import ApiClient

    _token, key = token_create(user=admin, name="automation")
    return ApiClient(key)


RULE = {
    "name": "Big deals",
    "subject": "deal",
    "trigger": "created",
    "enabled": True,
    "conditions": {
        "match": "all",
        "items": [{"field": "deal.amount", "op": "gte", "value": "500"}],
    },
    "actions": [
        {"type": "notify", "params": {"to": {"to": "owner"}, "message": "{{ deal.title }}"}}
    ],
}


def test_rules_through_the_api_run_and_show_their_runs(admin_api, owner, stages):
    api = admin_api
    made = api.post_json("/api/v1/rules", RULE)
    assert made.status_code == 201, made.content
    rule = made.json()
    assert (rule["version"], rule["enabled"], rule["broken"]) == (1, True, "")
    deal_create(actor=owner, data={"title": "Winter garden", "amount": "900"})
    runs = api.get(f"/api/v1/rules/{rule['id']}/runs").json()["items"]
    assert [(r["status"], r["steps"][0]["message"]) for r in runs] == [
        ("done", "Olivia Owner told: Winter garden")
    ]
    changed = api.put_json(f"/api/v1/rules/{rule['id']}", {**RULE, "name": "Bigger deals"}).json()
    assert (changed["name"], changed["version"]) == ("Bigger deals", 2)
    off = api.put_json(f"/api/v1/rules/{rule['id']}/enabled", {"enabled": False}).json()
    assert off["enabled"] is False
    deal = deal_create(actor=owner, data={"title": "Door", "amount": "900"})
    test = api.post_json(f"/api/v1/rules/{rule['id']}/test", {"record_id": deal.pk}).json()
    assert (test["dry_run"], test["steps"][0]["status"]) == (True, "dry")
    assert api.delete(f"/api/v1/rules/{rule['id']}").status_code == 204
    assert api.get(f"/api/v1/rules/{rule['id']}").status_code == 404


def test_a_bad_rule_is_refused_with_where_the_mistake_is(admin_api, stages):
    api = admin_api
    bad = {
        **RULE,
        "actions": [
            {"type": "notify", "params": {"to": {"to": "owner"}, "message": "{{ deal.title }"}}
        ],
    }
    answer = api.post_json("/api/v1/rules", bad)
    assert answer.status_code == 422
    assert "is not closed" in answer.content.decode()


def test_blueprints_through_the_api(admin_api, stages):
    api = admin_api
    names = [b["name"] for b in api.get("/api/v1/blueprints").json()]
    assert names == [
        "window-shop",
        "birthday-greeting",
        "holiday-greeting",
        "new-lead-sla",
        "invoice-overdue",
        "deal-rotting",
        "feedback",
    ]
    installed = api.post_json("/api/v1/blueprints/deal-rotting/install", {})
    assert installed.status_code == 201
    assert [(r["name"], r["enabled"]) for r in installed.json()] == [("Stuck deals", False)]


def test_a_role_without_automation_gets_403(api):
    assert api.get("/api/v1/rules").status_code == 403
    assert api.post_json("/api/v1/rules", RULE).status_code == 403
