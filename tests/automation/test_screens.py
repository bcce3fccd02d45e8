"""Settings → Automation as an administrator sees it: the rules with their state, a rule
in words with its runs, turning it on and off, a dry run from the page, deleting."""

import pytest

from accord.automation.models import Rule, Run
from accord.sales.services import deal_create

pytestmark = pytest.mark.django_db(transaction=True)

NOTIFY = {"type": "notify", "params": {"to": {"to": "owner"}, "message": "{{ deal.title }}!"}}
WAIT = {"type": "wait", "params": {"amount": 3, "unit": "hours"}}


def test_the_rules_screen_lists_each_rule_with_its_state(admin_client, owner, stages, rule_for):
    rule_for(name="Big deals", actions=[NOTIFY])
    paused = rule_for(name="Runaway", actions=[NOTIFY])
    Rule.objects.filter(pk=paused.pk).update(paused_at="2026-11-22T10:00:00Z",
                                             paused_reason="Paused: it ran 11 times")  # fmt: skip
    rule_for(name="Quiet", enabled=False, actions=[NOTIFY])
    page = admin_client.get("/settings/automation/").content.decode()
    assert "Big deals" in page and "Runaway" in page and "Quiet" in page
    assert "Paused: it ran 11 times" in page
    assert page.count("Turn off") == 1 and "Resume" in page and "Turn on" in page


def test_a_role_without_automation_does_not_see_it(manager_client):
    assert manager_client.get("/settings/automation/").status_code == 404


def test_a_rule_reads_as_steps_in_words_with_its_runs(admin_client, owner, stages, rule_for):
    rule = rule_for(name="Follow up", actions=[{
        "type": "branch", "if": {"items": [{"field": "deal.amount", "op": "gte", "value": "500"}]},
        "then": [WAIT, NOTIFY], "else": []}])  # fmt: skip
    deal_create(actor=owner, data={"title": "Balcony", "amount": "900"})
    page = admin_client.get(f"/settings/automation/{rule.pk}/").content.decode()
    assert "If deal · amount is at least “500”" in page
    assert "Wait 3 hours" in page and "Tell the owner: “{{ deal.title }}!”" in page
    assert "Balcony" in page and "Waiting" in page  # the run, waiting, with its deal


def test_turning_off_and_on_and_a_broken_rule_cannot_be_turned_on(
    admin_client, owner, stages, rule_for
):
    rule = rule_for(name="Stage rule", trigger="stage_entered",
                    trigger_options={"stage": stages["Offer"].pk}, actions=[NOTIFY])  # fmt: skip
    admin_client.post(f"/settings/automation/{rule.pk}/switch", {"enabled": "0"})
    rule.refresh_from_db()
    assert not rule.enabled
    stages["Offer"].retired = True
    stages["Offer"].save()
    page = admin_client.post(
        f"/settings/automation/{rule.pk}/switch", {"enabled": "1"}, follow=True
    ).content.decode()
    rule.refresh_from_db()
    assert not rule.enabled and "The stage is gone or retired" in rule.broken
    assert "The rule cannot run" in page


def test_a_dry_run_from_the_page_shows_what_would_happen(admin_client, owner, stages, rule_for):
    rule = rule_for(name="Try me", enabled=False, actions=[NOTIFY])
    deal = deal_create(actor=owner, data={"title": "Door"})
    page = admin_client.post(
        f"/settings/automation/{rule.pk}/test", {"record": deal.pk}, follow=True
    ).content.decode()
    assert "Test run done" in page
    assert "Would tell Olivia Owner: Door!" in page
    assert Run.objects.get().dry_run
    bad = admin_client.post(
        f"/settings/automation/{rule.pk}/test", {"record": "99999"}, follow=True
    )
    assert "No such record" in bad.content.decode()


def test_deleting_a_rule_takes_its_runs(admin_client, owner, stages, rule_for):
    rule = rule_for(name="Gone soon", actions=[NOTIFY])
    deal_create(actor=owner, data={"title": "Door"})
    admin_client.post(f"/settings/automation/{rule.pk}/delete")
    assert not Rule.objects.exists() and not Run.objects.exists()
