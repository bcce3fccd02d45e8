"""Triggers and steps beyond the first: a field changing from one value to another, a
record deleted, a schedule, another system calling a rule's address; a segment as a
condition; a new deal for the client; a team's lead rule choosing who."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from accord.accounts.services import user_create
from accord.automation import engine, scheduler
from accord.automation.models import Run
from accord.contacts.services import client_delete, person_create, person_update, segment_save
from accord.sales.models import Deal
from accord.sales.services import deal_create, deal_update
from accord.work.models import Notification, Task
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def notify(message, to=None):
    return {"type": "notify", "params": {"to": to or {"to": "owner"}, "message": message}}


def told():
    return list(
        Notification.objects.filter(kind="automation")
        .order_by("id")
        .values_list("data__message", flat=True)
    )


def test_a_field_changing_from_one_value_to_another_starts_the_rule(admin, owner, stages, rule_for):
    rule_for(
        trigger="updated",
        trigger_options={"field": "source", "from": "web", "to": "partner"},
        actions=[notify("{{ deal.title }} came through a partner")],
    )
    deal = deal_create(actor=owner, data={"title": "Roof", "source": "web"})
    deal = deal_update(actor=owner, deal=deal, data={"title": "Roof and gutters"})
    deal = deal_update(actor=owner, deal=deal, data={"source": "fair"})
    assert told() == []  # another field; then web -> fair
    deal = deal_update(actor=owner, deal=deal, data={"source": "web"})
    deal_update(actor=owner, deal=deal, data={"source": "Partner"})
    assert told() == ["Roof and gutters came through a partner"]


def test_a_deleted_client_starts_its_rule_with_what_the_client_was(admin, owner, rule_for):
    rule_for(
        subject="person",
        trigger="deleted",
        actions=[notify("{{ client.name }} ({{ client.email }}) was deleted", {"to": "user",
                        "user": admin.email})],
    )  # fmt: skip
    vera = person_create(
        actor=owner, data={"first_name": "Vera", "last_name": "Lis", "emails": ["vera@lis.am"]}
    )
    client_delete(actor=admin, record=vera)
    assert told() == ["Vera Lis (vera@lis.am) was deleted"]
    run = Run.objects.get()
    assert (run.status, run.event) == ("done", "person.deleted")


def test_a_weekly_schedule_goes_through_open_deals_on_its_days_once(admin, owner, stages, rule_for):
    zone = timezone.get_current_timezone()
    monday = datetime(2026, 3, 9, 7, 0, tzinfo=zone)
    with time_machine.travel(monday, tick=False):
        deal_create(actor=owner, data={"title": "Open one"})
        won = deal_create(actor=owner, data={"title": "Closed one"})
        Deal.objects.filter(pk=won.pk).update(status=Deal.WON)
        rule_for(
            trigger="schedule",
            trigger_options={"every": "week", "weekdays": [0, 3], "time": "08:30"},
            actions=[notify("Weekly: {{ deal.title }}")],
        )
        scheduler.tick(monday)  # the rule's first moment is set
    for day, hour in [(9, 8), (9, 9), (9, 12), (10, 9), (11, 9), (12, 8), (12, 9), (13, 9)]:
        moment = datetime(2026, 3, day, hour, 31, tzinfo=zone)
        with time_machine.travel(moment, tick=False):
            scheduler.tick(moment)
    assert told() == ["Weekly: Open one", "Weekly: Open one"]  # Monday 9th, Thursday 12th


def test_a_monthly_schedule_on_the_31st_fires_on_a_short_months_last_day(
    admin, owner, stages, rule_for
):
    zone = timezone.get_current_timezone()
    start = datetime(2026, 2, 1, 7, 0, tzinfo=zone)
    with time_machine.travel(start, tick=False):
        deal_create(actor=owner, data={"title": "Retainer"})
        rule = rule_for(
            trigger="schedule",
            trigger_options={"every": "month", "day": 31, "time": "09:00"},
            actions=[notify("Invoice {{ deal.title }}")],
        )
        scheduler.tick(start)
    rule.refresh_from_db()
    assert timezone.localtime(rule.next_fire_at) == datetime(2026, 2, 28, 9, 0, tzinfo=zone)


def test_a_schedule_on_clients_needs_a_segment_of_its_kind(admin, owner, rule_for):
    with pytest.raises(ValidationError) as refused:
        rule_for(subject="person", trigger="schedule", actions=[notify("hi")])
    assert "segment" in str(refused.value.message_dict["trigger"])
    deals = segment_save(actor=admin, name="Big", record_type="deal", filters={"status": "open"})
    with pytest.raises(ValidationError) as refused:
        rule_for(
            subject="person",
            trigger="schedule",
            trigger_options={"segment": deals.name},
            actions=[notify("hi")],
        )
    assert "other records" in str(refused.value.message_dict["trigger"])
    with pytest.raises(ValidationError) as refused:
        rule_for(
            trigger="schedule",
            trigger_options={"every": "week", "weekdays": [], "time": "25:00"},
            actions=[notify("hi")],
        )
    assert refused.value.message_dict["trigger"]


def test_a_segment_condition_chooses_the_clients_in_it(admin, owner, rule_for):
    vip = segment_save(
        actor=admin, name="VIP", record_type="person", filters={"tag": "vip"}, shared=True
    )
    rule_for(
        subject="person",
        trigger="updated",
        conditions={"match": "all", "items": [{"field": "segment", "op": "eq", "value": "vip"}]},
        actions=[notify("{{ person.first_name }} is a VIP")],
    )
    vera = person_create(actor=owner, data={"first_name": "Vera", "tags": ["vip"]})
    ivan = person_create(actor=owner, data={"first_name": "Ivan"})
    person_update(actor=owner, person=vera, data={"city": "Yerevan"})
    person_update(actor=owner, person=ivan, data={"city": "Gyumri"})
    assert told() == ["Vera is a VIP"]
    from accord.contacts.services import segment_delete

    segment_delete(actor=admin, segment=vip)
    from accord.automation.services import rules_check

    assert rules_check() == 1  # the rule names a segment that is gone: flagged


def test_a_new_client_gets_a_deal_in_the_chosen_stage(admin, owner, stages, rule_for):
    rule_for(
        subject="person",
        actions=[
            {
                "type": "create_deal",
                "params": {
                    "title": "Windows for {{ person.first_name }}",
                    "stage": stages["Measured"].pk,
                    "amount": "1200",
                },
            }
        ],
    )
    anna = person_create(actor=owner, data={"first_name": "Anna", "source": "web form"})
    deal = Deal.objects.get()
    assert (deal.title, deal.person, deal.owner, deal.stage, deal.amount, deal.source) == (
        "Windows for Anna",
        anna,
        owner,
        stages["Measured"],
        1200,
        "web form",
    )


def test_a_rule_can_refuse_a_closed_stage_for_a_new_deal(admin, stages, rule_for):
    with pytest.raises(ValidationError) as refused:
        rule_for(
            subject="person",
            actions=[{"type": "create_deal", "params": {"title": "x", "stage": stages["Won"].pk}}],
        )
    assert "open stage" in str(refused.value.message_dict["actions"])


def test_a_teams_lead_rule_picks_the_owner_and_the_task_goes_to_them(admin, owner, rule_for):
    from accord.accounts.services import team_save

    zone = timezone.get_current_timezone()
    tuesday = datetime(2026, 3, 10, 11, 0, tzinfo=zone)
    with time_machine.travel(tuesday, tick=False):
        members = [
            user_create(email=f"m{n}@example.com", password=PASSWORD, role="manager")
            for n in range(2)
        ]
        team_save(actor=admin, name="Sales", head=None, members=members, lead_rule="round_robin")
        rule_for(
            subject="person",
            actions=[
                {"type": "assign_owner", "params": {"owner": {"to": "team", "team": "sales"}}},
                {
                    "type": "create_task",
                    "params": {
                        "title": "Call {{ person.first_name }}",
                        "assignee": {"to": "owner"},
                        "due_in": {"amount": 15, "unit": "minutes"},
                    },
                },
            ],
        )
        for n in range(4):
            person_create(actor=admin, data={"first_name": f"Lead{n}"})
    tasks = list(Task.objects.order_by("id").values_list("title", "assignee", "person__owner"))
    first, second = (m.pk for m in members)
    assert tasks == [
        ("Call Lead0", first, first),
        ("Call Lead1", second, second),
        ("Call Lead2", first, first),
        ("Call Lead3", second, second),
    ]


def test_a_task_for_a_team_goes_to_the_least_loaded_member_at_work(admin, rule_for):
    from accord.accounts.services import team_save
    from accord.work.services import task_create

    zone = timezone.get_current_timezone()
    tuesday = datetime(2026, 3, 10, 11, 0, tzinfo=zone)
    with time_machine.travel(tuesday, tick=False):
        busy, free = (
            user_create(email=f"m{n}@example.com", password=PASSWORD, role="administrator")
            for n in range(2)
        )
        team_save(actor=admin, name="Sales", head=None, members=[busy, free],
                  lead_rule="round_robin")  # fmt: skip
        task_create(
            actor=admin,
            data={"title": "Busy", "assignee": busy, "due_at": tuesday.replace(hour=15)},
        )
        rule_for(
            subject="person",
            actions=[notify("New: {{ person.first_name }}", {"to": "team", "team": "Sales"})],
        )
        person_create(actor=admin, data={"first_name": "Lead"})
    assert list(Notification.objects.filter(kind="automation").values_list("user", flat=True)) == [
        free.pk
    ]


def test_a_renamed_segment_stays_the_rules_and_a_deleted_one_breaks_it_at_once(
    admin, owner, stages, rule_for
):
    from accord.automation.models import Rule
    from accord.contacts.services import segment_delete

    big = segment_save(actor=admin, name="Big", record_type="deal", filters={"status": "open"})
    rule = rule_for(
        trigger="schedule",
        trigger_options={"every": "day", "time": "09:00", "segment": "big"},
        conditions={"match": "all", "items": [{"field": "segment", "op": "ne", "value": "Big"}]},
        actions=[notify("{{ deal.title }}")],
    )
    assert rule.trigger_options["segment"] == str(big.pk)  # kept by id, typed by name
    segment_save(actor=admin, segment=big, name="Large", record_type="deal",
                 filters={"status": "open"})  # fmt: skip
    rule.refresh_from_db()
    assert rule.broken == ""
    segment_delete(actor=admin, segment=big)
    rule.refresh_from_db()
    assert "There is no segment" in rule.broken
    # Even found running, a schedule over a segment that is gone goes through nothing.
    deal_create(actor=owner, data={"title": "Open"})
    Rule.objects.filter(pk=rule.pk).update(broken="", next_fire_at=timezone.now())
    engine.forget_rules()
    scheduler.tick(timezone.now())
    assert told() == []


def test_turning_a_schedule_on_again_waits_for_its_next_moment(admin, owner, stages, rule_for):
    from accord.automation.services import rule_enable

    zone = timezone.get_current_timezone()
    sunday, wednesday = (datetime(2026, 3, d, 15, 0, tzinfo=zone) for d in (8, 11))
    with time_machine.travel(sunday, tick=False):
        deal_create(actor=owner, data={"title": "Open"})
        rule = rule_for(
            trigger="schedule",
            trigger_options={"every": "week", "weekdays": [0], "time": "09:00"},
            actions=[notify("Monday: {{ deal.title }}")],
        )
        rule_enable(actor=admin, rule=rule, enabled=False)
    with time_machine.travel(wednesday, tick=False):
        rule_enable(actor=admin, rule=rule, enabled=True)
        scheduler.tick(wednesday)  # it missed Monday while off: not made up for now
    assert told() == []
    rule.refresh_from_db()
    assert timezone.localtime(rule.next_fire_at) == datetime(2026, 3, 16, 9, 0, tzinfo=zone)


def test_a_rule_on_a_deletion_refuses_steps_that_need_the_record(admin, rule_for):
    with pytest.raises(ValidationError) as refused:
        rule_for(
            subject="person",
            trigger="deleted",
            actions=[notify("gone"), {"type": "add_tag", "params": {"tag": "x"}}],
        )
    assert "“Add a tag” cannot be done" in str(refused.value.message_dict["actions"])


def test_erasing_a_person_drops_what_their_runs_kept(admin, owner, rule_for):
    from accord.contacts.services import person_erase

    rule_for(subject="person", trigger="updated", actions=[notify("{{ person.first_name }}")])
    vera = person_create(actor=owner, data={"first_name": "Vera", "last_name": "Secretname"})
    vera = person_update(actor=owner, person=vera, data={"last_name": "Lis"})
    run = Run.objects.get()
    assert "Secretname" not in str(run.context)  # the changed values are not kept at all
    assert run.context["payload"]["fields"] == ["last_name"]
    person_erase(actor=admin, person=vera)
    run.refresh_from_db()
    assert run.context == {}


def test_a_changed_field_rule_names_a_field_its_record_reports(admin, stages, rule_for):
    for field, says in [("stage", "stage, won or lost"), ("colour", "no field colour")]:
        with pytest.raises(ValidationError) as refused:
            rule_for(trigger="updated", trigger_options={"field": field}, actions=[notify("x")])
        assert says in str(refused.value.message_dict["trigger"])


@pytest.mark.parametrize(
    ("month", "day", "clock"),
    # In Berlin on 29 March 2026 02:30 never comes (02:00 -> 03:00); on 25 October it comes
    # twice (03:00 -> 02:00). Either way the day's run is made once.
    [(3, 29, "02:30"), (3, 29, "09:00"), (10, 25, "02:30")],
)
def test_a_daily_schedule_fires_once_on_the_day_the_clocks_change(
    admin, owner, stages, rule_for, month, day, clock
):
    berlin = ZoneInfo("Europe/Berlin")
    with timezone.override(berlin):
        start = datetime(2026, month, day - 1, 12, 0, tzinfo=berlin)
        with time_machine.travel(start, tick=False):
            deal_create(actor=owner, data={"title": "Open"})
            rule_for(
                trigger="schedule",
                trigger_options={"every": "day", "time": clock},
                actions=[notify("{{ deal.title }}")],
            )
        moment = start.astimezone(UTC)  # the worker's clock runs on, whatever the wall says
        while moment < datetime(2026, month, day + 1, 0, 0, tzinfo=berlin):
            moment += timedelta(minutes=20)
            with time_machine.travel(moment, tick=False):
                scheduler.tick(moment)
    assert told() == ["Open"]
