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


def test_the_test_finds_its_record_by_searching_or_by_a_number_pasted(
    admin_client, owner, stages, rule_for
):
    rule = rule_for(name="Try me", enabled=False, actions=[NOTIFY])
    door = deal_create(actor=owner, data={"title": "Front door"})
    deal_create(actor=owner, data={"title": "Balcony"})
    page = admin_client.get(f"/settings/automation/{rule.pk}/").content.decode()
    assert 'placeholder="The deal&#x27;s title or number"' in page and 'name="record"' in page
    pick = f"/settings/automation/{rule.pk}/records"
    found = admin_client.get(pick, {"q": "door"}).content.decode()
    assert f'<option value="{door.pk}" selected>Front door · Request</option>' in found
    assert "Balcony" not in found
    for pasted in (str(door.pk), f"#{door.pk}", f"https://crm.example.com/deals/{door.pk}/"):
        found = admin_client.get(pick, {"q": pasted}).content.decode()
        assert f'<option value="{door.pk}" selected>Front door' in found
    assert admin_client.get(pick, {"q": "d"}).status_code == 204  # too short to search

    # The number pasted works without choosing (and without JavaScript to fill the choice).
    page = admin_client.post(
        f"/settings/automation/{rule.pk}/test", {"q": f"#{door.pk}", "record": ""}, follow=True
    ).content.decode()
    assert "Would tell Olivia Owner: Front door!" in page
    page = admin_client.post(
        f"/settings/automation/{rule.pk}/test", {"q": "door", "record": ""}, follow=True
    ).content.decode()
    assert "Find the record to test on: type its name and pick it." in page
    assert Run.objects.count() == 1


def test_the_test_finds_only_records_the_user_may_see(admin, owner, stages, rule_for):
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone

    from accord.accounts.services import user_create
    from accord.work.services import task_create
    from tests.conftest import PASSWORD, log_in

    rule = rule_for(name="On tasks", subject="task", trigger="task_completed", actions=[NOTIFY])
    theirs = task_create(
        actor=owner, data={"title": "Call the Smiths", "due_at": timezone.now() + timedelta(days=1)}
    )
    user_create(email="mia@example.com", password=PASSWORD, role="marketing", full_name="Mia")
    marketing = Client()  # may manage automation; sees only her own tasks
    assert log_in(marketing, "mia@example.com")
    pick = f"/settings/automation/{rule.pk}/records"
    assert "Call the Smiths" not in marketing.get(pick, {"q": "smiths"}).content.decode()
    assert "Call the Smiths" not in marketing.get(pick, {"q": str(theirs.pk)}).content.decode()
    page = marketing.post(
        f"/settings/automation/{rule.pk}/test", {"record": theirs.pk}, follow=True
    ).content.decode()
    assert "No such record, or you cannot see it." in page and not Run.objects.exists()
    admin_view = Client()
    assert log_in(admin_view, admin.email)
    assert "Call the Smiths" in admin_view.get(pick, {"q": "smiths"}).content.decode()


def test_deleting_a_rule_takes_its_runs(admin_client, owner, stages, rule_for):
    rule = rule_for(name="Gone soon", actions=[NOTIFY])
    deal_create(actor=owner, data={"title": "Door"})
    admin_client.post(f"/settings/automation/{rule.pk}/delete")
    assert not Rule.objects.exists() and not Run.objects.exists()
