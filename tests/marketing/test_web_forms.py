"""Web forms: made by marketing, filled by a visitor without logging in (no JavaScript
needed) — a request becomes a client (found by e-mail or phone), a deal, a note and the
visit's source; bots are thanked and dropped."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accord.accounts.models import Team
from accord.accounts.services import team_save, token_create, user_create
from accord.automation.blueprints import install
from accord.automation.services import rule_save
from accord.contacts.models import Person
from accord.contacts.services import clients_merge, person_create, person_erase
from accord.marketing.models import Campaign, Channel, Submission, Touch, WebForm
from accord.marketing.queries import person_touches
from accord.marketing.services import campaign_save, filing, form_save
from accord.marketing.services.forms import started_mark
from accord.sales.models import Deal
from accord.sales.services.deals import first_stage
from accord.work.models import Task
from tests.conftest import PASSWORD, ApiClient, log_in, run_worker

pytestmark = pytest.mark.django_db(transaction=True)  # automation runs after the commit
MONDAY_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

CONTACT = [{"key": "name", "required": True}, {"key": "phone", "required": True},
           {"key": "email", "required": False}, {"key": "message", "required": False}]  # fmt: skip


@pytest.fixture(autouse=True)
def fresh_rate_counts():
    cache.clear()


@pytest.fixture
def web_form(admin):
    return form_save(actor=admin, data={
        "name": "Call me back", "fields": CONTACT, "creates_deal": True,
        "channel": Channel.objects.get(code="site"), "consent_text": "Send me offers",
        "thanks_text": "Thank you, we will call you within 15 minutes."})  # fmt: skip


def visitor_sends(client: Client, form: WebForm, data: dict, **headers):
    page = client.get(f"/f/{form.token}/?utm_source=google&utm_campaign=spring-windows")
    assert page.status_code == 200
    started = page.content.decode().split('name="started" value="', 1)[1].split('"', 1)[0]
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        sent = client.post(f"/f/{form.token}/", {"started": started, "utm_source": "google",
                                                 "utm_campaign": "spring-windows", **data},
                           **headers)  # fmt: skip
        run_worker()  # files what the page kept
    return sent


def test_a_visitor_s_request_becomes_a_client_a_deal_and_a_note(web_form, admin):
    spring = campaign_save(actor=admin, data={"name": "Spring", "code": "spring-windows",
                                              "channel": Channel.objects.get(code="ads"),
                                              "currency": "EUR"})  # fmt: skip
    visitor = Client(enforce_csrf_checks=True)  # a form on another site sends no CSRF token
    sent = visitor_sends(visitor, web_form, {"name": "Anna Petrova", "phone": "+7 916 123-45-67",
                                             "email": "Anna@Example.com", "consent": "1",
                                             "message": "3 windows, 1200×1400"})  # fmt: skip
    assert sent.status_code == 200
    assert "Thank you, we will call you within 15 minutes." in sent.content.decode()
    person = Person.objects.get()
    assert (person.first_name, person.last_name) == ("Anna", "Petrova")
    assert person.marketing_consent and person.consent_source == "Call me back"
    deal = Deal.objects.get()
    assert deal.person == person and deal.title == "Call me back: Anna Petrova"
    first = Touch.objects.get(person=person, kind="first", deal=None)
    assert (first.source, first.campaign, first.channel) == ("google", spring, spring.channel)
    assert Touch.objects.get(deal=deal).campaign == spring  # the deal keeps the lead's source
    web_form.refresh_from_db()
    assert web_form.received == 1 and web_form.refused_as_spam == 0
    timeline = Client()
    assert log_in(timeline, admin.email)
    card = timeline.get(f"/clients/people/{person.pk}/").content.decode()
    assert "3 windows, 1200×1400" in card and "utm_source=google" in card


def test_the_same_visitor_again_is_the_same_client_with_a_new_last_touch(web_form):
    visitor_sends(Client(), web_form, {"name": "Anna", "phone": "+79161234567"})
    again = Client()
    page = again.get(f"/f/{web_form.token}/?utm_source=instagram")
    started = page.content.decode().split('name="started" value="', 1)[1].split('"', 1)[0]
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        again.post(f"/f/{web_form.token}/", {"started": started, "name": "Anna P.",
                                             "phone": "+7 (916) 123 45 67",
                                             "utm_source": "instagram"})  # fmt: skip
        run_worker()
    person = Person.objects.get()
    assert Deal.objects.filter(person=person).count() == 2
    assert Touch.objects.get(person=person, kind="first", deal=None).source == "google"
    assert Touch.objects.get(person=person, kind="last", deal=None).source == "instagram"


def test_a_request_with_mistakes_comes_back_with_what_to_mend_and_keeps_the_rest(web_form):
    sent = visitor_sends(Client(), web_form, {"name": "Anna", "phone": "call me",
                                              "email": "not-an-address"})  # fmt: skip
    page = sent.content.decode()
    assert sent.status_code == 422
    assert "Enter an e-mail address" in page and 'value="Anna"' in page
    assert 'name="utm_campaign" value="spring-windows"' in page  # the source rides along
    assert not Person.objects.exists() and not Submission.objects.exists()
    missing = visitor_sends(Client(), web_form, {"email": "anna@example.com"})
    assert missing.status_code == 422 and missing.content.decode().count("Fill this in.") == 2


@pytest.mark.parametrize(
    "trick",
    ["honeypot", "too fast", "forged start", "another site"],
)
def test_a_bot_is_thanked_and_nothing_is_made(web_form, admin, trick):
    form_save(actor=admin, form=web_form, data={
        **{key: getattr(web_form, key) for key in ("name", "fields", "consent_text",
                                                    "thanks_text", "channel", "creates_deal")},
        "allowed_sites": "okna.example"})  # fmt: skip
    web_form.refresh_from_db()
    bot = Client()
    data = {"name": "Buy pills", "phone": "+7 916 123-45-67", "started": started_mark()}
    headers = {"HTTP_ORIGIN": "https://okna.example"}
    if trick == "honeypot":
        data["accord_trap"] = "http://spam.example"
    elif trick == "forged start":
        data["started"] = "1700000000:forged"
    elif trick == "another site":
        headers = {"HTTP_ORIGIN": "https://spam.example"}
    if trick == "too fast":
        sent = bot.post(f"/f/{web_form.token}/", data, **headers)
    else:
        with time_machine.travel(timezone.now() + timedelta(seconds=30)):
            sent = bot.post(f"/f/{web_form.token}/", data, **headers)
    assert sent.status_code == 200 and "Thank you" in sent.content.decode()
    assert not Submission.objects.exists()  # nothing kept for the worker either
    run_worker()
    assert not Person.objects.exists() and not Deal.objects.exists()
    web_form.refresh_from_db()
    assert web_form.refused_as_spam == 1 and web_form.received == 0


def test_one_address_sending_again_and_again_is_stopped(web_form):
    for number in range(7):
        visitor_sends(Client(), web_form, {"name": f"Visitor {number}",
                                           "phone": f"+7 916 123-45-{number:02d}"})  # fmt: skip
    assert Person.objects.count() == 5
    web_form.refresh_from_db()
    assert web_form.refused_as_spam == 2


def test_a_rule_on_new_clients_runs_for_a_web_form_s_lead_and_the_team_picks_the_owner(
    web_form, admin
):
    seller = user_create(email="sam@example.com", password=PASSWORD, role="manager")
    team = team_save(actor=admin, name="Sales", head=None, members=[seller],
                     lead_rule=Team.ROUND_ROBIN)  # fmt: skip
    rule_save(actor=admin, data={
        "name": "Call new clients", "subject": "person", "trigger": "created", "enabled": True,
        "actions": [{"type": "create_task", "params": {
            "title": "Call {{ person.first_name }}", "assignee": {"to": "owner"},
            "due_in": {"amount": 1, "unit": "days"}}}]})  # fmt: skip
    form_save(actor=admin, form=web_form, data={"name": web_form.name, "fields": CONTACT,
                                                "team": team, "creates_deal": True})  # fmt: skip
    web_form.refresh_from_db()
    with time_machine.travel(MONDAY_NOON, tick=False):
        visitor_sends(Client(), web_form, {"name": "Anna", "phone": "+7 916 123-45-67"})
        run_worker()
    person = Person.objects.get()
    assert person.owner == seller
    assert Deal.objects.get().owner == seller
    assert list(Task.objects.values_list("title", "assignee")) == [("Call Anna", seller.pk)]


def test_who_may_make_forms_and_what_a_form_must_ask(owner, admin):
    with pytest.raises(PermissionDenied):
        form_save(actor=owner, data={"name": "Mine", "fields": CONTACT})
    with pytest.raises(ValidationError) as refused:
        form_save(actor=admin, data={"name": "Only a name", "fields": ["name"],
                                     "redirect_url": "javascript:alert(1)",
                                     "allowed_sites": "not a site!",
                                     "consent_required": True})  # fmt: skip
    assert set(refused.value.message_dict) == {
        "fields",
        "redirect_url",
        "allowed_sites",
        "consent_text",
    }
    marketer = user_create(email="mark@example.com", password=PASSWORD, role="marketing")
    with pytest.raises(ValidationError) as no_deals:
        form_save(actor=marketer, data={"name": "Leads", "fields": CONTACT, "creates_deal": True})
    assert "creates_deal" in no_deals.value.message_dict
    assert form_save(actor=marketer, data={"name": "Leads", "fields": CONTACT}).pk


def test_an_admin_builds_a_form_on_its_page_and_gets_the_code_for_the_site(admin_client):
    empty = admin_client.get("/marketing/forms/").content.decode()
    assert "Make the first form" in empty
    new = admin_client.get("/marketing/forms/new/").content.decode()
    assert 'value="phone" aria-label="Ask: Phone" checked' in new
    bad = admin_client.post("/marketing/forms/new/", {"name": "Contact us", "asked": ["name"]})
    assert "at least an e-mail or a phone" in bad.content.decode()
    saved = admin_client.post("/marketing/forms/new/", {
        "name": "Contact us", "asked": ["name", "email", "message"], "required": ["email"],
        "creates_deal": "on", "thanks_text": "Thanks!"})  # fmt: skip
    assert saved.status_code == 302
    form = WebForm.objects.get()
    assert form.fields == [{"key": "name", "required": False}, {"key": "email", "required": True},
                           {"key": "message", "required": False}]  # fmt: skip
    page = admin_client.get(saved["Location"]).content.decode()
    assert f"/f/{form.token}/" in page and "&lt;form action=" in page  # the code to paste
    assert Client().get(f"/f/{form.token}/").status_code == 200  # open to anyone
    form_save(actor=form.created_by, form=form, data={"name": "Contact us", "fields":
                                                      form.fields, "retired": True})  # fmt: skip
    assert Client().get(f"/f/{form.token}/").status_code == 404  # switched off
    assert Client().get("/f/no-such-form/").status_code == 404
    assert Campaign.objects.count() == 0


def test_the_site_s_script_sends_in_the_page_and_reads_the_answer(web_form, admin):
    form_save(actor=admin, form=web_form, data={"name": web_form.name, "fields": CONTACT,
                                                "allowed_sites": "okna.example",
                                                "thanks_text": "Thanks!"})  # fmt: skip
    script = Client().get("/f/forms.js")
    assert script["Content-Type"].startswith("application/javascript")
    assert script["Cache-Control"] == "no-store"
    written = script.content.decode().split('hidden(form, "started", "', 1)[1].split('"', 1)[0]
    started = json.loads(f'"{written}"')  # as the browser reads the script's string
    page = {"HTTP_ORIGIN": "https://okna.example", "HTTP_ACCEPT": "application/json"}
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        wrong = Client().post(f"/f/{web_form.token}/", {"started": started, "name": "Anna",
                                                        "phone": "no"}, **page)  # fmt: skip
        sent = Client().post(f"/f/{web_form.token}/", {
            "started": started, "name": "Anna", "phone": "+7 916 123-45-67",
            "utm_source": "google", "landing_page": "https://okna.example/balconies?utm_source=google",
            "referrer": "https://www.google.com/"}, **page)  # fmt: skip
        run_worker()
    assert wrong.json()["ok"] is False and "phone" in wrong.json()["errors"]
    assert sent.json() == {"ok": True, "thanks": "Thanks!", "redirect": None}
    assert sent["Access-Control-Allow-Origin"] == "https://okna.example"
    touch = Touch.objects.get(kind="first", deal=None)
    assert touch.landing_page == "https://okna.example/balconies?utm_source=google"
    assert touch.referrer == "https://www.google.com/"


def test_the_client_s_card_says_where_they_came_from(web_form, admin_client):
    visitor_sends(Client(), web_form, {"name": "Anna", "phone": "+7 916 123-45-67",
                                       "message": "Balcony glazing"})  # fmt: skip
    person = Person.objects.get()
    card = admin_client.get(f"/marketing/client/?person={person.pk}").content.decode()
    assert "First visit" in card and "google" in card and "Call me back" in card
    assert "Balcony glazing" in card
    stranger = person_create(actor=person.created_by, data={"first_name": "Walk-in"})
    assert admin_client.get(f"/marketing/client/?person={stranger.pk}").content == b""


def test_the_api_makes_and_changes_forms_and_lists_their_requests(admin, owner):
    _token, key = token_create(user=admin, name="tests")
    api = ApiClient(key)
    bad = api.post_json("/api/v1/forms", {"name": "X", "fields": [{"key": "colour"}]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "fields"
    made = api.post_json("/api/v1/forms", {
        "name": "Contact us", "fields": [{"key": "email", "required": True}],
        "allowed_sites": ["okna.example"], "creates_deal": False})  # fmt: skip
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["address"].endswith(f"/f/{WebForm.objects.get().token}/")
    assert body["allowed_sites"] == ["okna.example"]
    stale = api.patch_json(made["Location"], {"name": "Y"}, HTTP_IF_MATCH=f'W/"{body["id"]}-0"')
    assert stale.status_code == 412
    renamed = api.patch_json(made["Location"], {"name": "Write to us"}, HTTP_IF_MATCH=made["ETag"])
    assert renamed.status_code == 200 and renamed.json()["fields"] == body["fields"]
    form = WebForm.objects.get()
    visitor_sends(Client(), form, {"email": "anna@example.com"}, HTTP_ORIGIN="https://okna.example")
    listed = api.get(f"/api/v1/forms/{body['id']}/submissions").json()["items"]
    assert listed[0]["values"] == {"email": "anna@example.com"}
    assert listed[0]["came_from"]["utm_source"] == "google"
    _token, key = token_create(user=owner, name="tests")
    assert ApiClient(key).post_json("/api/v1/forms", {
        "name": "Mine", "fields": [{"key": "email"}]}).status_code == 403  # fmt: skip


def test_a_rule_on_a_sent_web_form_runs_for_its_deal(web_form, admin):
    rule_save(actor=admin, data={
        "name": "Price the request", "subject": "deal", "trigger": "form_submitted",
        "enabled": True, "actions": [{"type": "create_task", "params": {
            "title": "Price {{ deal.title }}", "assignee": {"to": "owner"},
            "due_in": {"amount": 1, "unit": "days"}}}]})  # fmt: skip
    visitor_sends(Client(), web_form, {"name": "Anna", "phone": "+7 916 123-45-67"})
    run_worker()
    deal = Deal.objects.get()
    assert list(Task.objects.values_list("title", "deal")) == [(f"Price {deal.title}", deal.pk)]


def test_the_window_shop_blueprint_brings_its_request_form(admin):
    install(actor=admin, name="window-shop")
    form = WebForm.objects.get(name="Window request")
    assert form.pipeline.name == "Windows" and form.team.name == "Window sales"
    with time_machine.travel(MONDAY_NOON, tick=False):
        visitor_sends(Client(), form, {"name": "Anna", "phone": "+7 916 123-45-67"})
    deal = Deal.objects.get()
    assert deal.pipeline == form.pipeline and deal.stage == first_stage(form.pipeline)
    install(actor=admin, name="window-shop")  # installed again: still one form
    assert WebForm.objects.filter(name="Window request").count() == 1


def test_a_returning_visitor_changes_nothing_of_the_client_and_merge_and_erase_keep_up(
    web_form, admin
):
    anna = person_create(actor=admin, data={"first_name": "Anna", "phones": ["+79161234567"]})
    visitor_sends(Client(), web_form, {"name": "Someone else", "phone": "+7 916 123-45-67",
                                       "consent": "1", "message": "Hi"})  # fmt: skip
    anna.refresh_from_db()
    assert (
        anna.first_name == "Anna" and not anna.marketing_consent
    )  # knowing a number is not enough
    twin = Person.objects.create(first_name="Anna", last_name="Twin", created_by=admin)
    Touch.objects.create(person=twin, kind="first", at=timezone.now() - timedelta(days=30),
                         source="newsletter")  # fmt: skip
    Touch.objects.create(person=twin, kind="last", at=timezone.now() - timedelta(days=30))
    clients_merge(actor=admin, survivor=anna, other=twin)
    card = person_touches(admin, anna)
    assert card["first"].source == "newsletter"  # the earliest of both
    assert [r.values["message"] for r in card["requests"]] == ["Hi"]
    person_erase(actor=admin, person=anna)
    assert not Touch.objects.filter(person=anna).exists()
    assert Submission.objects.get().values == {}


def test_a_request_nobody_may_receive_is_kept_with_the_reason(web_form, admin, admin_client):
    form_page = f"/marketing/forms/{web_form.pk}/"
    type(admin).objects.filter(pk=admin.pk).update(is_active=False)  # the only administrator
    sent = visitor_sends(Client(), web_form, {"name": "Anna", "phone": "+7 916 123-45-67"})
    assert sent.status_code == 200 and "Thank you" in sent.content.decode()
    assert not Person.objects.exists()
    kept = Submission.objects.get()
    assert kept.values["name"] == "Anna" and "receive" in kept.problem
    type(admin).objects.filter(pk=admin.pk).update(is_active=True)
    page = admin_client.get(form_page).content.decode()
    assert "No client made" in page and "Anna" in page


def test_the_visitor_is_thanked_at_once_and_the_worker_files_the_request(
    web_form, admin, admin_client
):
    started = started_mark(timezone.now())
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        sent = Client().post(f"/f/{web_form.token}/", {"started": started, "name": "Anna",
                                                       "phone": "+7 916 123-45-67"})  # fmt: skip
    assert sent.status_code == 200 and "within 15 minutes" in sent.content.decode()
    kept = Submission.objects.get()
    assert kept.state == Submission.PENDING and not Person.objects.exists()
    page = admin_client.get(f"/marketing/forms/{web_form.pk}/").content.decode()
    assert "Waiting to be filed" in page and "Anna" in page and "1 waiting to be filed" in page
    _token, key = token_create(user=admin, name="t")
    listed = ApiClient(key).get(f"/api/v1/forms/{web_form.pk}/submissions").json()["items"]
    assert listed, listed
    assert [(i["state"], i["person"], i["problem"]) for i in listed] == [("pending", None, "")]
    assert run_worker() == 1  # one pass for the form
    kept.refresh_from_db()
    assert kept.state == Submission.DONE and not kept.problem
    assert kept.person == Person.objects.get() and kept.deal == Deal.objects.get()
    page = admin_client.get(f"/marketing/forms/{web_form.pk}/").content.decode()
    assert "Waiting to be filed" not in page


def test_a_filing_that_fails_is_tried_again_and_at_last_kept_with_the_error(
    web_form, admin_client, monkeypatch
):
    def locked(**_kwargs):
        raise OperationalError("database is locked")

    def broken(**_kwargs):
        raise RuntimeError("secret value of another client")

    monkeypatch.setattr(filing, "person_create", locked)
    visitor_sends(Client(), web_form, {"name": "Anna", "phone": "+7 916 123-45-67"})
    kept = Submission.objects.get()
    assert (kept.state, kept.attempts, Person.objects.count()) == (Submission.PENDING, 0, 0)
    assert kept.next_try_at is not None  # the database busy: later, and no try counted
    assert filing.submissions_catch_up(timezone.now()) == 0  # not yet: a minute to wait
    monkeypatch.undo()
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert filing.submissions_catch_up(timezone.now()) == 1  # a pass queued
        run_worker()
    kept.refresh_from_db()
    assert kept.state == Submission.DONE and kept.person == Person.objects.get()
    assert Deal.objects.get().person == kept.person and not kept.problem

    monkeypatch.setattr(filing, "person_create", broken)  # a request that never goes in
    visitor_sends(Client(), web_form, {"name": "Boris", "phone": "+7 916 123-45-68"})
    boris = Submission.objects.get(values__name="Boris")
    for minutes in (3, 6, 11, 20):  # tried again 1, 2, 4, 8 minutes after each failure
        with time_machine.travel(timezone.now() + timedelta(minutes=minutes)):
            filing.submissions_catch_up(timezone.now())
            run_worker()
    boris.refresh_from_db()
    assert boris.state == Submission.DONE and "RuntimeError" in boris.problem
    assert "secret" not in boris.problem  # the error's text stays in the server's log
    assert Person.objects.count() == 1 and Deal.objects.count() == 1  # nothing half-made
    page = admin_client.get(f"/marketing/forms/{web_form.pk}/").content.decode()
    assert "No client made" in page and "File again" in page

    monkeypatch.undo()  # the cause mended: filed again by hand
    again = admin_client.post(f"/marketing/requests/{boris.pk}/again/")
    assert again.status_code == 302
    run_worker()
    boris.refresh_from_db()
    assert boris.state == Submission.DONE and boris.person.first_name == "Boris"
    assert not boris.problem
    web_form.refresh_from_db()
    assert web_form.received == 2  # each request once
    assert admin_client.post(f"/marketing/requests/{boris.pk}/again/").status_code == 302
    assert Person.objects.count() == 2  # a filed one is not filed twice


def test_a_request_waiting_from_a_client_erased_meanwhile_brings_nothing_back(web_form, admin):
    anna = person_create(actor=admin, data={"first_name": "Anna", "phones": ["+79161234567"],
                                            "emails": ["anna@example.com"]})  # fmt: skip
    started = started_mark(timezone.now())
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        Client().post(f"/f/{web_form.token}/", {"started": started, "name": "Anna Petrova",
                                                "phone": "+7 916 123-45-67",
                                                "email": "Anna@Example.com"})  # fmt: skip
    person_erase(actor=admin, person=anna)  # before the worker files the request
    run_worker()
    kept = Submission.objects.get()
    assert kept.state == Submission.DONE and kept.values == {} and kept.person is None
    assert "Erased" in kept.problem
    assert Person.objects.count() == 1 and not Person.objects.filter(first_name="Anna").exists()
    assert not Deal.objects.exists()


def test_while_a_burst_pours_in_the_worker_lets_the_page_take_it_then_files_it(web_form):
    shown = started_mark(timezone.now() - timedelta(minutes=1))
    for n in range(filing.BURST_AT + 5):  # a burst: more waiting than a visitor or two
        Client().post(f"/f/{web_form.token}/", {"started": shown, "name": f"Visitor {n}",
                                                "phone": f"+7 916 555-00-{n:02}"},
                      REMOTE_ADDR=f"10.1.0.{n}")  # fmt: skip
    DBTaskResult.objects.all().delete()  # the pass the page queued: run by hand below
    before = timezone.now()
    assert filing.submissions_drain(form_id=web_form.pk) == 0  # new ones came: it waits
    later = DBTaskResult.objects.get()
    assert later.run_after >= before + timedelta(seconds=filing.QUIET)  # back in a moment
    assert later.args_kwargs["kwargs"]["seen"] == Submission.objects.order_by("-pk").first().pk
    web_form.refresh_from_db()
    assert web_form.requests_queued_at is not None
    seen, filed = later.args_kwargs["kwargs"]["seen"], 0
    for _pass in range(5):  # a pass files for 10 s at most: on a slow machine, one more
        filed += filing.submissions_drain(form_id=web_form.pk, seen=seen)
        if not Submission.objects.filter(state=Submission.PENDING).exists():
            break
    assert filed == filing.BURST_AT + 5
    assert not Submission.objects.filter(state=Submission.PENDING).exists()
    assert Person.objects.count() == filing.BURST_AT + 5
