"""The rule form without code: nested steps as a flat list and back, a misplaced "End"
refused, and the form's add, move, remove and save."""

import pytest

from accord.automation import editor
from accord.automation.models import Rule

pytestmark = pytest.mark.django_db(transaction=True)

TELL = {"type": "notify", "params": {"to": {"to": "head"}, "message": "late"}}
TASK = {
    "type": "create_task",
    "params": {
        "title": "Call",
        "kind": "call",
        "assignee": {"to": "role", "role": "manager"},
        "due_in": {"amount": 15, "unit": "minutes"},
    },
}
IF = {"match": "all", "items": [{"field": "deal.amount", "op": "gte", "value": "1000"}]}
UNTIL = {"match": "all", "items": [{"field": "deal.stage", "op": "ne", "value": "Request"}]}


def test_nested_steps_become_a_flat_list_and_come_back_the_same():
    steps = [
        TASK,
        {
            "type": "wait",
            "params": {"until": UNTIL, "timeout": {"amount": 1, "unit": "hours"}},
            "timeout_steps": [TELL],
        },
        {
            "type": "branch",
            "if": IF,
            "then": [TELL, {"type": "add_tag", "params": {"tag": "big"}}],
            "else": [{"type": "wait", "params": {"amount": 2, "unit": "days"}}],
        },
    ]
    rows = editor.flatten(steps)
    assert [(r["type"], r["depth"]) for r in rows] == [
        ("create_task", 0),
        ("wait_until", 0),
        ("timeout", 0),
        ("notify", 1),
        ("end", 0),
        ("if", 0),
        ("notify", 1),
        ("add_tag", 1),
        ("otherwise", 0),
        ("wait", 1),
        ("end", 0),
    ]
    assert editor.nest(rows) == [
        TASK,
        {
            "type": "wait",
            "params": {"until": UNTIL, "timeout": {"amount": 1, "unit": "hours"}},
            "timeout_steps": [TELL],
        },
        {
            "type": "branch",
            "if": IF,
            "then": [TELL, {"type": "add_tag", "params": {"tag": "big"}}],
            "else": [{"type": "wait", "params": {"amount": 2, "unit": "days"}}],
        },
    ]
    assert [
        r["depth"]
        for r in editor.indent([{k: v for k, v in r.items() if k != "depth"} for r in rows])
    ] == [r["depth"] for r in rows]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"type": "end"}], "nothing to end"),
        ([{"type": "otherwise"}], "inside an “If…”"),
        ([{"type": "if", "c_field": "deal.amount", "c_op": "gt", "c_value": "1"}], "has no “End”"),
        ([{"type": "timeout"}], "follows a “Wait until…”"),
    ],
)
def test_a_misplaced_marker_is_refused(rows, message):
    with pytest.raises(editor.EditorError, match=message):
        editor.nest(rows)


def form(**extra):
    data = {
        "name": "From the form",
        "subject": "deal",
        "trigger": "created",
        "enabled": "on",
        "c-count": "0",
        "s-count": "1",
        "s-0-type": "create_task",
        "s-0-title": "Call {{ deal.title }}",
        "s-0-kind": "call",
        "s-0-who": "owner",
        "s-0-amount": "15",
        "s-0-unit": "minutes",
    }
    data.update(extra)
    return data


def test_the_form_adds_moves_and_removes_rows_without_saving(admin_client, stages):
    page = admin_client.post("/settings/automation/new", form(add_step="1")).content.decode()
    assert 'name="s-1-type"' in page and not Rule.objects.exists()
    page = admin_client.post("/settings/automation/new", form(add_condition="1")).content.decode()
    assert 'name="c-0-field"' in page
    moved = form(**{"s-count": "2", "s-1-type": "add_tag", "s-1-tag": "vip", "s-1-up": "1"})
    page = admin_client.post("/settings/automation/new", moved).content.decode()
    assert page.index('value="vip"') < page.index("Call {{ deal.title }}")
    gone = form(**{"s-0-remove": "1"})
    page = admin_client.post("/settings/automation/new", gone).content.decode()
    assert 'name="s-0-type"' not in page


def test_the_form_saves_a_rule_and_shows_what_is_wrong(admin_client, stages):
    bad = form(
        **{
            "s-0-title": "Call {{ deal.title }",
            "c-count": "1",
            "c-0-field": "deal.amount",
            "c-0-op": "gt",
            "c-0-value": "",
        }
    )
    page = admin_client.post("/settings/automation/new", {**bad, "save": "1"}).content.decode()
    assert "is not closed" in page and "Give a value to compare deal.amount with." in page
    assert not Rule.objects.exists()
    good = form(**{"c-count": "1", "c-0-field": "deal.amount", "c-0-op": "gt", "c-0-value": "100"})
    response = admin_client.post("/settings/automation/new", {**good, "save": "1"})
    rule = Rule.objects.get()
    assert response.url == f"/settings/automation/{rule.pk}/"
    assert rule.conditions == {
        "match": "all",
        "items": [{"field": "deal.amount", "op": "gt", "value": "100"}],
    }
    assert rule.actions[0]["params"]["due_in"] == {"amount": 15, "unit": "minutes"}
    page = admin_client.get(f"/settings/automation/{rule.pk}/edit").content.decode()
    assert "Call {{ deal.title }}" in page


def test_the_form_saves_a_weekly_schedule_with_a_deal_and_a_webhook_and_reads_it_back(
    admin_client, stages
):
    data = form(
        subject="person",
        trigger="schedule",
        every="week",
        weekdays=["0", "4"],
        time="08:15",
        segment="",
        **{
            "s-count": "2",
            "s-0-type": "create_deal",
            "s-0-title": "Repeat order for {{ person.first_name }}",
            "s-0-stage": str(stages["Measured"].pk),
            "s-0-deal_amount": "900",
            "s-0-who": "owner",
            "s-1-type": "call_webhook",
            "s-1-url": "https://hooks.example.com/accord",
            "s-1-secret": "",
        },
    )
    page = admin_client.post("/settings/automation/new", {**data, "save": "1"}).content.decode()
    assert "Choose the segment of clients the schedule goes through." in page
    assert not Rule.objects.exists()
    from accord.accounts.models import User
    from accord.contacts.services import segment_save

    regulars = segment_save(
        actor=User.objects.get(email="ada@example.com"),
        name="Regulars",
        record_type="person",
        filters={"tag": "regular"},
        shared=True,
    )
    data["segment"] = str(regulars.pk)
    admin_client.post("/settings/automation/new", {**data, "save": "1"})
    rule = Rule.objects.get()
    assert rule.trigger_options == {
        "every": "week",
        "weekdays": [0, 4],
        "time": "08:15",
        "segment": str(regulars.pk),
    }
    deal, hook = rule.actions
    assert deal["params"] == {
        "title": "Repeat order for {{ person.first_name }}",
        "stage": stages["Measured"].pk,
        "owner": {"to": "owner"},
        "amount": "900",
    }
    assert hook["params"]["url"] == "https://hooks.example.com/accord"
    assert len(hook["params"]["secret"]) >= 24  # a blank secret gets a new one: always signed
    page = admin_client.get(f"/settings/automation/{rule.pk}/").content.decode()
    assert "every Monday, Friday · 08:15 · each record in Regulars" in page
    assert "Send the record to https://hooks.example.com<" in page  # not the path: a token
    edit = admin_client.get(f"/settings/automation/{rule.pk}/edit").content.decode()
    assert 'value="4" checked' in edit and hook["params"]["secret"] in edit
