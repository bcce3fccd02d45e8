"""SMS mailings to a segment through an HTTP gateway (played by pytest-httpserver): who
receives it (a phone, consent, no STOP) and why the others don't, the text filled in for
each with the STOP line in their language, one SMS per person, and the parts counted."""

from django.test import Client
from django.utils import timezone

from accord.comms import mailings
from accord.comms.models import Mailing, Message, Recipient, Unsubscribe
from accord.comms.services import audience, mailing_save, mailing_start
from accord.comms.services.messengers import messenger_save
from accord.contacts.services import person_create, segment_save
from tests.conftest import log_in


def test_an_sms_mailing_goes_to_those_who_agreed_with_a_number_and_no_stop(
    admin, owner, httpserver, settings
):
    settings.ACCORD_WEBHOOK_ALLOWED_HOSTS = [f"{httpserver.host}:{httpserver.port}"]
    gateway = messenger_save(actor=admin, data={
        "name": "SMS", "provider": "sms", "secret": "s", "gateway_method": "get",
        "gateway_url": httpserver.url_for("/send") + "?to={to}&text={text}"})  # fmt: skip
    people = [
        ("Vera", ["+79161234567"], True, ""),
        ("Anna", ["+79161234568"], True, "ru"),
        ("Stop", ["+79161234569"], True, ""),
        ("Nope", ["+79161234560"], False, ""),
        ("Mute", [], True, ""),
    ]
    for first, phones, consent, language in people:
        data = {"first_name": first, "phones": phones, "tags": ["sms"],
                "marketing_consent": consent, "language": language}  # fmt: skip
        person_create(actor=owner, data=data)
    Unsubscribe.objects.create(address="+79161234569", source="SMS STOP", at=timezone.now())
    segment = segment_save(actor=owner, name="SMS club", record_type="person",
                           filters={"tag": "sms"})  # fmt: skip
    found = audience(segment, owner, sms=True)
    assert (found.receive, found.left_out) == (
        2,
        {"unsubscribed": 1, "not_agreed": 1, "no_phone": 1},
    )
    mailing = mailing_save(actor=owner, name="Spring", template=None, segment=segment,
                           mailbox=None, messenger=gateway,
                           text="Hello {{ client.first_name }}, -10% this week!")  # fmt: skip
    mailing_start(actor=owner, mailing=mailing)
    httpserver.expect_request("/send").respond_with_json({"id": "g"})
    assert mailings.send(mailing.pk) == 2
    texts = sorted(request.args["text"] for request, _answer in httpserver.log)
    assert texts[0].startswith("Hello Anna, -10% this week!\n") and "STOP" in texts[0]
    assert texts[1] == "Hello Vera, -10% this week!\nReply STOP to unsubscribe."
    assert {r.args["to"] for r, _a in httpserver.log} == {"+79161234567", "+79161234568"}
    mailing.refresh_from_db()
    assert mailing.state == Mailing.DONE
    assert Recipient.objects.filter(mailing=mailing, state="sent").count() == 2
    assert Message.objects.filter(mailing=mailing, state="sent").count() == 2
    assert mailings.send(mailing.pk) == 0  # nobody twice


def test_the_sms_mailing_screen_counts_the_parts(admin, owner):
    gateway = messenger_save(actor=admin, data={
        "name": "SMS", "provider": "sms", "secret": "s", "gateway_method": "get",
        "gateway_url": "https://sms.example.com/send?to={to}&text={text}"})  # fmt: skip
    segment = segment_save(actor=owner, name="All", record_type="person", filters={"tag": "x"})
    client = Client()
    assert log_in(client, owner.email)
    page = client.get("/mail/mailings/new/?kind=sms").content.decode()
    assert "data-sms-count" in page and "SMS text" in page
    refused = client.post("/mail/mailings/new/", {"kind": "sms", "name": "X",
                          "segment": segment.pk, "messenger": gateway.pk, "text": ""})  # fmt: skip
    assert refused.status_code == 422
    saved = client.post("/mail/mailings/new/", {"kind": "sms", "name": "Promo",
                        "segment": segment.pk, "messenger": gateway.pk,
                        "text": "Скидка 10% до пятницы"})  # fmt: skip
    assert saved.status_code == 302
    page = client.get(saved["Location"]).content.decode()
    assert "21 characters · 1 SMS (UCS-2)" in page


def test_an_sms_mailing_reads_in_the_api(admin, owner, api):
    gateway = messenger_save(actor=admin, data={
        "name": "SMS", "provider": "sms", "secret": "s", "gateway_method": "get",
        "gateway_url": "https://sms.example.com/send?to={to}&text={text}"})  # fmt: skip
    segment = segment_save(actor=owner, name="All", record_type="person", filters={"tag": "x"})
    mailing = mailing_save(actor=owner, name="Promo", template=None, segment=segment,
                           mailbox=None, messenger=gateway, text="Hi")  # fmt: skip
    body = api.get(f"/api/v1/mailings/{mailing.pk}").json()
    assert (body["template"], body["messenger"], body["text"]) == (None, str(gateway.pk), "Hi")
