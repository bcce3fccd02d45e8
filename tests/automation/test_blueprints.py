"""The blueprints through the services: the window shop from a web request to the head
of sales' report, each task for the right person at the right time; a birthday e-mail
only with consent; a new lead nobody calls; a stuck deal."""

import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from email.header import decode_header, make_header

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from accord.accounts.models import Role, Team
from accord.accounts.services import team_save, user_create
from accord.automation.blueprints import install
from accord.automation.models import Rule
from accord.automation.services import rule_enable
from accord.billing.models import Invoice
from accord.billing.services import payment_record
from accord.comms import delivery
from accord.comms.models import Message
from accord.contacts.models import Person
from accord.contacts.services import person_create
from accord.core.models import CustomField, TimelineEvent
from accord.core.timeline import timeline_of
from accord.sales.models import Deal, Pipeline
from accord.sales.services import (
    deal_create,
    deal_move,
    deal_update,
    deal_win,
    pipeline_create,
)
from accord.work.models import Notification, Task
from accord.work.services import activity_log, lead_distribute, task_complete
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)
WINDOWS = [
    *({"name": name} for name in ("Request", "Measurement", "Offer", "Contract", "Installation")),
    {"name": "Won", "kind": "won"},
    {"name": "Lost", "kind": "lost"},
]


def turn_on(admin, rules):
    for rule in rules:
        rule_enable(actor=admin, rule=rule, enabled=True)


def messages(user) -> list[str]:
    notices = Notification.objects.filter(user=user, kind="automation").order_by("id")
    return [notice.data["message"] for notice in notices]


def test_the_window_shop_from_a_web_request_to_the_report(admin, owner, smtp_server):
    Pipeline.objects.all().delete()
    pipeline = pipeline_create(actor=admin, name="Windows", stages=WINDOWS)
    stages = {stage.name: stage for stage in pipeline.stages.all()}
    rules = install(actor=admin, name="window-shop")
    assert len(rules) == 10 and not any(rule.enabled for rule in rules)
    measurer = user_create(
        email="mark@example.com",
        password=PASSWORD,
        role=Role.objects.get(name="Measurer").slug,
        full_name="Mark Measurer",
    )
    installer = user_create(
        email="ivy@example.com",
        password=PASSWORD,
        role=Role.objects.get(name="Installer").slug,
        full_name="Ivy Installer",
    )
    head = user_create(email="hugo@example.com", password=PASSWORD, role="head-of-sales")
    # After installing, the admin puts the people in the blueprint's team.
    team_save(
        actor=admin,
        team=Team.objects.get(name="Window sales"),
        name="Window sales",
        head=head,
        members=[owner, measurer, installer],
        lead_rule="fixed",
        lead_user=owner,
    )
    web = rules[0]
    turn_on(admin, rules)
    start = datetime(2026, 3, 10, 11, 0, tzinfo=timezone.get_current_timezone())  # a Tuesday

    # A web request: a client and a deal; the owner must call within 15 minutes.
    with time_machine.travel(start, tick=False):
        answer = Client().post(
            f"/api/v1/hooks/{web.secret}",
            {
                "name": "Anna Petrova",
                "email": "anna@example.com",
                "phone": "+37491234567",
                "message": "3 windows, a balcony door",
            },
            content_type="application/json",
        )
    assert answer.status_code == 202, answer.content
    anna = Person.objects.get(primary_email="anna@example.com")
    note = TimelineEvent.objects.get(subject_id=anna.pk, kind="note")
    assert note.data["text"] == "Request from the web site: 3 windows, a balcony door"
    deal = Deal.objects.get(person=anna)
    assert (deal.title, deal.owner, deal.stage, anna.owner, anna.source) == (
        "Windows for Anna Petrova", owner, stages["Request"], owner, "web request"
    )  # fmt: skip
    deal = deal_update(actor=owner, deal=deal, data={"title": "3 windows", "amount": "2400"})
    call = Task.objects.get(deal=deal)
    assert (call.title, call.assignee, call.due_at) == (
        "Call Anna Petrova about “Windows for Anna Petrova”",
        owner,
        start + timedelta(minutes=15),
    )
    # Nobody calls: 15 minutes later the head hears of it.
    from accord.automation import scheduler

    scheduler.tick(start + timedelta(minutes=16))
    assert messages(head) == [
        "Nobody has called Anna Petrova about “3 windows” (Olivia Owner) within 15 minutes."
    ]
    # The call is logged: a measurement task for the measurer, the deal moves on.
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        activity_log(actor=owner, data={"kind": "call", "deal": deal, "person": anna})
    measure = Task.objects.get(title="Take measurements at Anna Petrova")
    assert measure.assignee == measurer and measure.kind == "visit"
    deal.refresh_from_db()
    assert deal.stage == stages["Measurement"]
    # The measurer is done and writes the sizes onto the deal (their role may not change
    # deals: the task lets them): the manager works out the price.
    keys = dict(CustomField.objects.filter(record_type="deal").values_list("label", "key"))
    number, sizes = (
        f"custom_fields.{keys['Number of windows']}",
        f"custom_fields.{keys['Window sizes']}",
    )
    assert measure.asks == [number, sizes]
    with time_machine.travel(start + timedelta(days=1), tick=False):
        task_complete(actor=measurer, task=measure, result="Balcony door too",
                      fields={number: "3", sizes: "1200×1400, 800×1400 ×2"})  # fmt: skip
    deal.refresh_from_db()
    assert deal.custom_fields == {keys["Number of windows"]: 3,
                                  keys["Window sizes"]: "1200×1400, 800×1400 ×2"}  # fmt: skip
    price = Task.objects.get(title="Work out the price and agree it with Anna Petrova")
    assert price.assignee == owner
    # Agreed: the contract task; paid: installation; done: the report.
    deal_move(actor=owner, deal=deal, stage=stages["Offer"])
    deal_move(actor=owner, deal=deal, stage=stages["Contract"])
    assert Task.objects.filter(
        title__startswith="Prepare the contract for Anna Petrova", assignee=owner
    ).exists()
    date_key = CustomField.objects.get(record_type="deal", label="Installation date").key
    deal = deal_update(actor=owner, deal=Deal.objects.get(pk=deal.pk),
                       data={"custom_fields": {date_key: "2026-03-20"}})  # fmt: skip
    # The contract stage issued the invoice; paid in two parts, the deal moves on.
    invoice = Invoice.objects.get(deal=deal)
    assert (invoice.status, invoice.total, invoice.currency) == ("issued", Decimal("2400"), "EUR")
    payment_record(actor=owner, invoice=invoice, amount="1000", currency="EUR")
    assert Deal.objects.get(pk=deal.pk).stage == stages["Contract"]
    payment_record(actor=owner, invoice=invoice, amount="1400", currency="EUR")
    assert Deal.objects.get(pk=deal.pk).stage == stages["Installation"]
    install_task = Task.objects.get(title="Install at Anna Petrova")
    assert install_task.assignee == installer
    due = timezone.localtime(install_task.due_at)
    assert (due.date(), due.hour) == (date(2026, 3, 20), 9)  # the planned installation day
    assert messages(installer)[0].startswith("Installation at Anna Petrova: “3 windows”")
    task_complete(actor=installer, task=install_task, result="Three windows in, sealed.")
    assert messages(head)[-1] == (  # with the installer's words
        "Installed at Anna Petrova: “3 windows”, 2400.00 EUR. Three windows in, sealed."
    )
    deal.refresh_from_db()
    deal_win(actor=owner, deal=deal)
    assert messages(head)[-1] == "“3 windows” is done: 2400.00 EUR, Olivia Owner, for Anna Petrova."
    scheduler.tick(timezone.now())  # the worker e-mails the report: the head's copy
    report = next(mail for mail in smtp_server if mail["To"] == head.email)
    assert (
        str(make_header(decode_header(report["Subject"])))
        == "Window shop, from the rule “Window shop 7: won, the report”"
    )
    pdf = next(part for part in report.walk() if part.get_content_type() == "application/pdf")
    assert pdf.get_filename() == "window-shop.pdf"
    text = PdfReader(io.BytesIO(pdf.get_payload(decode=True))).pages[0].extract_text()
    assert "Sales volume" in text and "2,400.00" in text
    # She writes again: the team's rule (now round robin, with another seller next in
    # turn) does not take her from her manager.
    kim = user_create(email="kim@example.com", password=PASSWORD, role="manager")
    team_save(
        actor=admin, team=Team.objects.get(name="Window sales"), name="Window sales",
        head=head, members=[owner, kim, measurer, installer], lead_rule="round_robin",
    )  # fmt: skip
    with time_machine.travel(start + timedelta(days=3), tick=False):
        again = Client().post(
            f"/api/v1/hooks/{web.secret}",
            {"name": "Anna Petrova", "email": "anna@example.com", "message": "And a door"},
            content_type="application/json",
        )
    assert again.status_code == 202
    anna.refresh_from_db()
    assert anna.owner == owner
    assert Deal.objects.filter(person=anna).order_by("-pk").first().owner == owner


def test_the_window_shop_needs_its_stages(admin):
    pipeline_create(
        actor=admin,
        name="Windows",
        stages=[{"name": "New"}, {"name": "Won", "kind": "won"}, {"name": "Lost", "kind": "lost"}],
    )
    with pytest.raises(ValidationError, match="five open stages"):
        install(actor=admin, name="window-shop")
    assert not Rule.objects.exists()


def test_the_window_shop_installs_on_a_new_instance_with_what_it_needs(admin, owner):
    measurer_role_exists = Role.objects.filter(name="Measurer").exists()
    rules = install(actor=admin, name="window-shop")
    assert len(rules) == 10 and not measurer_role_exists
    windows = Pipeline.objects.get(name="Windows")
    assert [s.name for s in windows.stages.order_by("position")] == [
        "Request", "Measurement", "Offer", "Contract", "Installation", "Won", "Lost"]  # fmt: skip
    labels = set(CustomField.objects.filter(record_type="deal").values_list("label", flat=True))
    assert {"Number of windows", "Window sizes", "Installation date"} <= labels
    team = Team.objects.get(name="Window sales")
    assert team.lead_rule == "round_robin" and owner in team.members.all()
    assert not Role.objects.get(name="Measurer").takes_leads
    # A measurer in the team for its tasks is never handed a lead.
    measurer = user_create(email="mark@example.com", password=PASSWORD,
                           role=Role.objects.get(name="Measurer").slug)  # fmt: skip
    team_save(actor=admin, name=team.name, team=team, head=admin, members=[measurer, owner])
    noon = datetime(2026, 3, 10, 11, 0, tzinfo=timezone.get_current_timezone())  # a Tuesday
    for n in range(3):
        lead = person_create(actor=admin, data={"first_name": f"Lead {n}"})
        lead_distribute(person=lead, team=team, now=noon)
    assert set(
        Person.objects.filter(first_name__startswith="Lead").values_list("owner", flat=True)
    ) == {owner.pk}
    again = install(actor=admin, name="window-shop")  # a second install makes nothing twice
    assert Pipeline.objects.filter(name="Windows").count() == 1 and len(again) == 10
    assert Team.objects.filter(name="Window sales").count() == 1


def test_the_birthday_greeting_writes_only_to_those_who_agree(admin, owner, smtp_server, settings):
    settings.EMAIL_ENABLED = True
    zone = timezone.get_current_timezone()
    for name, consent in (("Vera", True), ("Ivan", False)):
        person_create(
            actor=owner,
            data={
                "first_name": name,
                "birthday": date(1990, 5, 4),
                "emails": [f"{name.lower()}@example.com"],
                "marketing_consent": consent,
            },
        )
    turn_on(admin, install(actor=admin, name="birthday-greeting"))
    for hour in (8, 9):
        moment = datetime(2027, 5, 4, hour, 30, tzinfo=zone)
        with time_machine.travel(moment, tick=False):
            from accord.automation import scheduler

            scheduler.tick(moment)
    assert smtp_server == [] and Message.objects.get().state == Message.QUEUED  # by the rule
    with time_machine.travel(moment, tick=False):
        delivery.deliver_due()  # the worker sends it
    assert [(m["To"], m["Subject"]) for m in smtp_server] == [
        ("vera@example.com", "Happy birthday, Vera!")
    ]
    vera = Person.objects.get(first_name="Vera")
    [entry] = timeline_of(vera, kinds=["email"])  # on her timeline, by the rule
    assert entry.data["by_rule"] and Message.objects.get().state == Message.SENT


def test_a_new_lead_nobody_calls_reaches_the_head(admin, owner):
    from accord.automation import scheduler

    head = user_create(email="hugo@example.com", password=PASSWORD, role="head-of-sales")
    team_save(actor=admin, name="Sales", head=head, members=[owner])
    turn_on(admin, install(actor=admin, name="new-lead-sla"))
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        called = person_create(actor=owner, data={"first_name": "Called", "kind": "lead"})
        person_create(actor=owner, data={"first_name": "Forgotten", "kind": "lead"})
        person_create(actor=owner, data={"first_name": "Client", "kind": "client"})
    assert Task.objects.filter(title__startswith="Call the new lead").count() == 2
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        activity_log(actor=owner, data={"kind": "call", "person": called})
    scheduler.tick(start + timedelta(minutes=31))
    assert messages(head) == [
        "Nobody has called the new lead Forgotten (Olivia Owner) in 30 minutes."
    ]


def test_a_stuck_deal_gets_a_task_for_its_owner(admin, owner, stages):
    from accord.automation import scheduler

    turn_on(admin, install(actor=admin, name="deal-rotting"))
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        deal_create(actor=owner, data={"title": "Balcony"})  # Request: stuck after 3 days
        scheduler.tick(start)
    scheduler.tick(start + timedelta(days=3, hours=2))
    task = Task.objects.get()
    assert (task.title, task.assignee) == (
        "“Balcony” is stuck in Request: move it on or close it",
        owner,
    )


def test_the_rule_editor_names_fields_by_their_labels(admin):
    client = Client()
    client.force_login(admin)
    page = client.post("/settings/automation/new",
                       {"subject": "deal", "trigger": "date_reached", "refresh": "1"})  # fmt: skip
    assert '<option value="expected_close_date">Expected close</option>' in page.content.decode()
    changed = client.post("/settings/automation/new",
                          {"subject": "deal", "trigger": "updated", "refresh": "1"})  # fmt: skip
    assert '<option value="stage">Stage</option>' in changed.content.decode()


def test_a_task_due_on_a_deal_date_keeps_it_through_the_rule_editor(admin):
    rules = install(actor=admin, name="window-shop")
    installed = next(r for r in rules if r.name.startswith("Window shop 5"))
    client = Client()
    client.force_login(admin)
    page = client.get(f"/settings/automation/{installed.pk}/edit").content.decode()
    key = CustomField.objects.get(record_type="deal", label="Installation date").key
    assert f'<option value="deal.custom.{key}" selected>' in page
