"""One-click unsubscribe (RFC 8058): a POST to the link in a marketing message
unsubscribes with no login, no cookie and no CSRF token; a GET only shows the page with
the button (mail scanners follow links); later mailings and marketing e-mails from
automation skip the person; the timeline says so."""

import pytest
from django.test import Client
from django.utils import translation

from accord.automation.models import Run
from accord.automation.services import rule_save
from accord.comms import mailings, unsubscribe
from accord.comms.models import Message, Unsubscribe
from accord.comms.services import mailing_counts, mailing_save, mailing_start, template_save
from accord.contacts.models import Person
from accord.contacts.services import person_create, person_update, segment_save
from accord.core.timeline import timeline_of
from tests.comms.conftest import make_mailbox


@pytest.fixture
def anna(owner):
    return person_create(actor=owner, data={
        "first_name": "Anna", "emails": ["anna@example.com"], "marketing_consent": True,
        "tags": ["news"], "language": "he",
    })  # fmt: skip


@pytest.fixture
def link(anna):
    return unsubscribe.url(person_id=anna.pk, address="anna@example.com").removeprefix(
        "http://127.0.0.1:8000"
    )


def test_a_post_without_cookies_or_csrf_token_unsubscribes_at_once(anna, link):
    stranger = Client(enforce_csrf_checks=True)

    answer = stranger.post(link, {"List-Unsubscribe": "One-Click"})

    assert answer.status_code == 200
    with translation.override("he"):  # Anna's language
        done = translation.gettext("You are unsubscribed")
    assert answer.context["done"] and done in answer.content.decode()
    anna.refresh_from_db()
    assert not anna.marketing_consent
    kept = Unsubscribe.objects.get()
    assert kept.address == "anna@example.com" and kept.person == anna
    [entry] = timeline_of(anna, kinds=["unsubscribed"])
    assert entry.data["from"] == ""  # no mailing: offers and news, in each reader's language
    assert stranger.post(link).status_code == 200  # a repeat changes nothing
    assert Unsubscribe.objects.count() == 1


def test_a_get_only_shows_the_button_in_the_persons_language(anna, link):
    answer = Client().get(link)

    assert answer.status_code == 200
    page = answer.content.decode()
    assert 'dir="rtl"' in page and 'method="post"' in page
    anna.refresh_from_db()
    assert anna.marketing_consent and not Unsubscribe.objects.exists()


def test_a_forged_or_cut_token_unsubscribes_nobody(anna, link):
    forged = unsubscribe.token(person_id=anna.pk, address="anna@example.com")[:-3] + "abc"
    assert Client().post(f"/u/{forged}").status_code == 404
    assert Client().post(link[:-10]).status_code == 404
    anna.refresh_from_db()
    assert anna.marketing_consent


def test_later_mailings_skip_the_person_who_unsubscribed(admin, owner, anna, link, sink):
    Client().post(link)
    # Even when someone ticks "agrees" again by hand, the unsubscribe holds.
    person_update(actor=owner, person=anna, data={"marketing_consent": True})
    person_create(actor=owner, data={"first_name": "Boris", "emails": ["boris@example.com"],
                                     "marketing_consent": True, "tags": ["news"]})  # fmt: skip
    offer = template_save(actor=admin, name="Offer", subject="Offer", html="<p>Hi</p>",
                          marketing=True)  # fmt: skip
    segment = segment_save(actor=owner, name="News", record_type="person", filters={"tag": "news"})
    mailbox = make_mailbox(admin, sink.port)
    mailing = mailing_save(actor=owner, name="May", template=offer, segment=segment,
                           mailbox=mailbox)  # fmt: skip
    mailing = mailing_start(actor=owner, mailing=mailing)

    mailings.send(mailing.pk)

    assert [message["To"] for message in sink] == ["boris@example.com"]
    assert mailing.audience["left_out"] == {"unsubscribed": 1}
    assert mailing_counts(mailing)["skipped"] == 1


def test_an_unsubscribe_from_a_mailing_marks_its_row(admin, owner, anna, sink):
    offer = template_save(actor=admin, name="Offer", subject="Offer", html="<p>Hi</p>",
                          marketing=True)  # fmt: skip
    segment = segment_save(actor=owner, name="News", record_type="person", filters={"tag": "news"})
    mailing = mailing_save(actor=owner, name="May offer", template=offer, segment=segment,
                           mailbox=make_mailbox(admin, sink.port))  # fmt: skip
    mailing_start(actor=owner, mailing=mailing)
    mailings.send(mailing.pk)
    link = sink[0]["List-Unsubscribe"].strip("<>").removeprefix("http://127.0.0.1:8000")

    Client(enforce_csrf_checks=True).post(link)

    assert mailing_counts(mailing)["unsubscribed"] == 1
    [entry] = timeline_of(Person.objects.get(pk=anna.pk), kinds=["unsubscribed"])
    assert entry.data["from"] == "May offer"


@pytest.mark.django_db(transaction=True)
def test_marketing_e_mails_from_automation_skip_the_person(admin, owner, smtp_factory):
    sink = smtp_factory()
    make_mailbox(admin, sink.port, is_default=True)
    greeting = template_save(actor=admin, name="Welcome", subject="Welcome {{ client.first_name }}",
                             html="<p>Glad you are here.</p>", marketing=True)  # fmt: skip
    rule_save(actor=admin, data={
        "name": "Welcome", "subject": "person", "trigger": "updated", "enabled": True,
        "actions": [{"type": "send_email", "params": {"template": greeting.pk}}],
    })  # fmt: skip
    anna = person_create(actor=owner, data={"first_name": "Anna", "emails": ["anna@example.com"],
                                            "marketing_consent": True})  # fmt: skip
    Client().post(unsubscribe.url(person_id=anna.pk, address="anna@example.com"))
    person_update(actor=owner, person=anna, data={"marketing_consent": True, "city": "Haifa"})

    run = Run.objects.filter(status=Run.FAILED).latest("pk")
    assert "unsubscribed" in run.error
    assert not Message.objects.exists()


def test_the_card_says_when_the_client_unsubscribed(manager_client, owner, anna, link):
    Client().post(link)
    page = manager_client.get(f"/clients/people/{anna.pk}/").content.decode()
    assert "the client unsubscribed from" in page and "offers and news" in page
