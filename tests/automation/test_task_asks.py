"""A rule's task that asks for the deal's fields when it is completed: chosen on the rule
form by the fields' labels, checked when the rule is saved, kept through the form, said
in the rule's steps in words, and made by the rule with the deal it is about."""

import pytest
from django.core.exceptions import ValidationError

from accord.automation.blueprints import install
from accord.automation.services import rule_save
from accord.core.models import CustomField
from accord.core.services import custom_field_retire, custom_field_save
from accord.sales.services import deal_create
from accord.work.models import Task

pytestmark = pytest.mark.django_db(transaction=True)
SIZES = "custom_fields.window_sizes"


@pytest.fixture
def sizes(admin):
    return custom_field_save(actor=admin, record_type="deal", label="Window sizes", type="text")


def measure(asks) -> dict:
    return {
        "type": "create_task",
        "params": {"title": "Measure {{ deal.title }}", "kind": "visit",
                   "assignee": {"to": "owner"}, "due_in": {"amount": 1, "unit": "days"},
                   "asks": asks},
    }  # fmt: skip


def form(**extra):
    return {
        "name": "Measure new deals", "subject": "deal", "trigger": "created", "enabled": "on",
        "c-count": "0", "s-count": "1", "s-0-type": "create_task",
        "s-0-title": "Measure {{ deal.title }}", "s-0-kind": "visit", "s-0-who": "owner",
        "s-0-amount": "1", "s-0-unit": "days", **extra,
    }  # fmt: skip


def test_a_rule_asking_for_a_field_the_deal_lacks_or_without_a_deal_is_refused(admin, sizes):
    with pytest.raises(ValidationError) as error:
        rule_save(actor=admin, data={"name": "Measure", "subject": "deal", "trigger": "created",
                                     "actions": [measure(["custom_fields.colour"])]})  # fmt: skip
    assert "The deal has no field custom_fields.colour to ask for." in str(error.value)
    with pytest.raises(ValidationError) as error:
        rule_save(actor=admin, data={"name": "Measure", "subject": "person", "trigger": "created",
                                     "actions": [measure([SIZES])]})  # fmt: skip
    assert "Only a task about a deal asks for its fields" in str(error.value)


def test_the_rules_task_asks_for_the_fields_of_the_deal_it_is_about(admin, owner, sizes, stages):
    data = {"name": "Measure", "subject": "deal", "enabled": True, "trigger": "created"}
    rule = rule_save(actor=admin, data={**data, "actions": [measure([SIZES])]})
    deal = deal_create(actor=owner, data={"title": "Balcony"})
    task = Task.objects.get(deal=deal)
    assert (task.title, task.asks) == ("Measure Balcony", [SIZES])
    # The field retired: the rule is broken, not silently asking for less.
    custom_field_retire(actor=admin, field=sizes)
    from accord.automation.services import rules_check

    assert rules_check() == 1
    rule.refresh_from_db()
    assert "Window sizes" not in rule.broken and "window_sizes" in rule.broken


def test_the_rule_form_offers_the_deals_fields_by_label_and_keeps_the_choice(
    admin_client, sizes, stages
):
    page = admin_client.get("/settings/automation/new").content.decode()
    assert "When it is completed, ask for the deal's" in page
    assert f'name="s-0-asks" value="{SIZES}"> <span>Window sizes</span>' in page
    assert 'value="amount"> <span>Amount</span>' in page
    person = admin_client.post(
        "/settings/automation/new", {**form(subject="person"), "refresh": "1"}
    )
    assert 'name="s-0-asks"' not in person.content.decode()  # a client's rule: no deal

    admin_client.post("/settings/automation/new",
                      {**form(**{"s-0-asks": [SIZES, "amount"]}), "save": "1"})  # fmt: skip
    from accord.automation.models import Rule

    rule = Rule.objects.get()
    assert rule.actions[0]["params"]["asks"] == [SIZES, "amount"]
    shown = admin_client.get(f"/settings/automation/{rule.pk}/").content.decode()
    assert "it asks for the deal&#x27;s Window sizes, Amount" in shown
    edit = admin_client.get(f"/settings/automation/{rule.pk}/edit").content.decode()
    assert f'name="s-0-asks" value="{SIZES}" checked>' in edit
    assert 'name="s-0-asks" value="expected_close_date">' in edit


def test_the_window_shops_measurement_asks_for_the_number_and_the_sizes(admin):
    rules = install(actor=admin, name="window-shop")
    keys = dict(CustomField.objects.filter(record_type="deal").values_list("label", "key"))
    measurement = next(r for r in rules if r.name.startswith("Window shop 2"))
    assert measurement.actions[0]["params"]["asks"] == [
        f"custom_fields.{keys['Number of windows']}",
        f"custom_fields.{keys['Window sizes']}",
    ]
    # The rules after a visit know it by its kind and the deal's stage, not by a title.
    for number, stage in (("3", "Measurement"), ("6", "Installation")):
        rule = next(r for r in rules if r.name.startswith(f"Window shop {number}"))
        assert rule.conditions["items"] == [
            {"field": "task.kind", "op": "eq", "value": "visit"},
            {"field": "deal.stage", "op": "eq", "value": stage},
        ]
