"""Mailings to a segment through a real SMTP server: who receives it and why the others
don't, sending at the mailbox's pace, pause and cancel, a worker killed halfway and
resumed sends nobody twice, and the unsubscribe headers and link in every message."""

from datetime import timedelta
from email.header import decode_header, make_header

import pytest
import time_machine
from django.utils import timezone

from accord.comms import delivery, mailings, unsubscribe
from accord.comms.models import Mailing, Message, Recipient, Unsubscribe
from accord.comms.services import (
    audience,
    mailing_cancel,
    mailing_counts,
    mailing_pause,
    mailing_resume,
    mailing_save,
    mailing_start,
    message_receive,
    message_send,
    template_save,
    unsubscribe_by_token,
)
from accord.contacts.services import person_create, segment_save
from accord.core.models import TimelineEvent
from tests.comms.test_receiving import BOUNCE


def person(owner, first, email="", *, consent=True, tags=("news",), language=""):
    return person_create(
        actor=owner,
        data={"first_name": first, "last_name": "Client", "emails": [email] if email else [],
              "marketing_consent": consent, "tags": list(tags), "language": language},
    )  # fmt: skip


@pytest.fixture
def offer(admin):
    return template_save(
        actor=admin,
        name="Spring offer",
        subject="Spring offer for {{ client.first_name }}",
        html="<p>Dear {{ client.first_name }},</p><p>windows are 10% off.</p>",
        marketing=True,
        variants={"ru": {"subject": "Весеннее предложение, {{ client.first_name }}",
                         "html": "<p>Здравствуйте, {{ client.first_name }}!</p>"}},
    )  # fmt: skip


@pytest.fixture
def segment(owner):
    return segment_save(actor=owner, name="Newsletter", record_type="person",
                        filters={"tag": "news"})  # fmt: skip


def header(message, name: str) -> str:
    return str(make_header(decode_header(message[name])))


def part(message, content_type: str) -> str:
    for found in message.walk():
        if found.get_content_type() == content_type:
            return found.get_payload(decode=True).decode()
    return ""


def make_mailing(owner, offer, segment, mailbox, name="Spring"):
    return mailing_save(actor=owner, name=name, template=offer, segment=segment, mailbox=mailbox)


def people(owner, count, start=0):
    return [person(owner, f"P{i}", f"p{i}@example.com") for i in range(start, start + count)]


def test_the_audience_says_who_receives_it_and_why_the_others_wont(owner, offer, segment):
    person(owner, "Anna", "anna@example.com")
    person(owner, "Boris")  # no address
    person(owner, "Carla", "carla@example.com", consent=False)
    dora = person(owner, "Dora", "dora@example.com")
    person(owner, "Emil", "ANNA@example.com")  # the same address as Anna
    person(owner, "Fred", "fred@example.com", tags=())  # not in the segment
    unsubscribe_by_token(token=unsubscribe.token(person_id=dora.pk, address="dora@example.com"))

    found = audience(segment, owner)

    assert found.total == 5 and found.receive == 1
    assert found.left_out == {"no_email": 1, "not_agreed": 1, "unsubscribed": 1, "duplicate": 1}
    assert [code for code, _words, _n in found.reasons()] == [
        "no_email", "unsubscribed", "not_agreed", "duplicate",
    ]  # fmt: skip


def test_an_address_goes_to_its_first_person_who_may_receive_it(
    owner, offer, segment, django_assert_max_num_queries
):
    """Who may not receive it does not take the address from another person; unsubscribes
    by address and bouncing addresses are asked of the database in the one query of the
    segment's people, however many there are."""
    from django.utils import timezone

    from accord.comms.models import BouncingAddress

    person(owner, "Anna", "anna@example.com", consent=False)
    person(owner, "Emil", "anna@example.com")  # the same address: Anna will not receive
    person(owner, "Gert", "gert@example.com")
    person(owner, "Hugo", "gert@example.com")  # Gert receives: Hugo is the duplicate
    person(owner, "Ida", "ida@example.com")
    person(owner, "Jan", "jan@example.com")
    now = timezone.now()
    BouncingAddress.objects.create(address="ida@example.com", status="5.1.1", bounced_at=now)
    Unsubscribe.objects.create(address="jan@example.com", at=now)  # by address, no person
    BouncingAddress.objects.bulk_create(
        BouncingAddress(address=f"gone{i}@example.net", status="5.1.1", bounced_at=now)
        for i in range(300)
    )
    Unsubscribe.objects.bulk_create(
        Unsubscribe(address=f"left{i}@example.net", at=now) for i in range(300)
    )

    with django_assert_max_num_queries(6):
        found = audience(segment, owner)

    assert found.total == 6 and found.receive == 2
    assert found.left_out == {"not_agreed": 1, "duplicate": 1, "bouncing": 1, "unsubscribed": 1}


def test_a_mailing_reaches_each_agreeing_person_once_in_their_language(
    owner, offer, segment, mailbox, sink
):
    anna = person(owner, "Anna", "anna@example.com")
    person(owner, "Ivan", "ivan@example.com", language="ru")
    person(owner, "Carla", "carla@example.com", consent=False)
    mailing = mailing_start(actor=owner, mailing=make_mailing(owner, offer, segment, mailbox))

    assert mailings.send(mailing.pk) == 2

    mailing.refresh_from_db()
    assert mailing.state == Mailing.DONE
    assert mailing_counts(mailing)["sent"] == 2 and mailing_counts(mailing)["skipped"] == 1
    assert sink.connections == 1  # one SMTP connection for the batch
    by_address = {message["To"]: message for message in sink}
    assert header(by_address["anna@example.com"], "Subject") == "Spring offer for Anna"
    assert header(by_address["ivan@example.com"], "Subject") == "Весеннее предложение, Ivan"
    received = by_address["anna@example.com"]
    link = received["List-Unsubscribe"].strip("<>")
    assert link.startswith("http://127.0.0.1:8000/u/")
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = part(received, "text/plain")
    assert link in text and "Dear Anna," in text
    assert link in part(received, "text/html")
    entry = TimelineEvent.objects.get(kind="email", subject_id=anna.pk)
    assert entry.data["subject"] == "Spring offer for Anna"


def test_one_to_one_mail_carries_no_unsubscribe_headers(owner, mailbox, sink):
    vera = person(owner, "Vera", "vera@example.com")
    message_send(actor=owner, mailbox=mailbox, person=vera, to=["vera@example.com"],
                 subject="Your offer", text="Here it is.")  # fmt: skip
    delivery.deliver_due()
    [received] = sink
    assert received["List-Unsubscribe"] is None and received["List-Unsubscribe-Post"] is None
    assert "/u/" not in part(received, "text/plain")


def test_a_worker_killed_halfway_and_resumed_sends_nobody_twice(
    owner, offer, segment, mailbox, sink
):
    people(owner, 30)
    mailing = mailing_start(actor=owner, mailing=make_mailing(owner, offer, segment, mailbox))

    assert mailings.send(mailing.pk, limit=12) == 12  # the worker stops after 12
    # ... and another dies after making the next messages, before any went out.
    from accord.comms.services.mailings import mailing_claim

    orphans = mailing_claim(mailing_id=mailing.pk, now=timezone.now(), size=5)
    assert len(sink) == 12 and len(orphans) == 5

    mailings.tick(timezone.now())  # the periodic pass takes it up again

    addresses = [message["To"] for message in sink]
    assert len(addresses) == 30 and len(set(addresses)) == 30
    mailing.refresh_from_db()
    assert mailing.state == Mailing.DONE and mailing_counts(mailing)["sent"] == 30


def test_a_message_in_the_hands_of_a_dead_worker_is_never_sent_again(
    owner, offer, segment, mailbox, sink
):
    people(owner, 3)
    mailing = mailing_start(actor=owner, mailing=make_mailing(owner, offer, segment, mailbox))
    from accord.comms.services.mailings import mailing_claim

    ids = mailing_claim(mailing_id=mailing.pk, now=timezone.now(), size=1)
    delivery.claim(timezone.now(), ids)  # taken for sending, then the worker died

    mailings.tick(timezone.now())
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        delivery.tick(timezone.now())
        mailings.tick(timezone.now())

    assert len(sink) == 2
    mailing.refresh_from_db()
    assert mailing.state == Mailing.DONE
    assert mailing_counts(mailing)["failed"] == 1  # maybe sent: a person decides


def test_the_mailbox_pace_is_kept(owner, offer, segment, admin, sink):
    from tests.comms.conftest import make_mailbox

    slow = make_mailbox(admin, sink.port, per_minute=10)
    people(owner, 25)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        mailing = mailing_start(actor=owner, mailing=make_mailing(owner, offer, segment, slow))
        mailings.send(mailing.pk)
        assert len(sink) == 10
        mailings.send(mailing.pk)
        assert len(sink) == 10  # the minute is used
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        mailings.tick(timezone.now())
        assert len(sink) == 20
    with time_machine.travel(start + timedelta(seconds=122), tick=False):
        mailings.tick(timezone.now())
    assert len(sink) == 25


def test_pause_stops_sending_and_resume_goes_on(owner, offer, segment, mailbox, sink):
    people(owner, 8)
    mailing = mailing_start(actor=owner, mailing=make_mailing(owner, offer, segment, mailbox))
    mailings.send(mailing.pk, limit=3)
    mailing_pause(actor=owner, mailing=mailing)

    mailings.tick(timezone.now())
    assert mailings.send(mailing.pk) == 0 and len(sink) == 3

    mailing_resume(actor=owner, mailing=mailing)
    mailings.send(mailing.pk)
    assert len(sink) == 8


def test_cancel_sends_to_nobody_else(owner, offer, segment, mailbox, sink):
    people(owner, 8)
    mailing = mailing_start(actor=owner, mailing=make_mailing(owner, offer, segment, mailbox))
    mailings.send(mailing.pk, limit=3)

    mailing = mailing_cancel(actor=owner, mailing=mailing)
    mailings.tick(timezone.now())
    delivery.deliver_due()

    assert len(sink) == 3 and mailing.state == Mailing.CANCELLED
    assert mailing_counts(mailing)["cancelled"] == 5
    assert not Message.objects.filter(state=Message.QUEUED).exists()


def test_someone_who_unsubscribes_meanwhile_is_skipped(owner, offer, segment, mailbox, sink):
    _anna, boris = people(owner, 2)
    mailing = mailing_start(actor=owner, mailing=make_mailing(owner, offer, segment, mailbox))
    unsubscribe_by_token(token=unsubscribe.token(person_id=boris.pk, address="p1@example.com"))

    mailings.send(mailing.pk)

    assert [message["To"] for message in sink] == ["p0@example.com"]
    assert Recipient.objects.get(person=boris).reason == "unsubscribed"


def test_a_segment_nobody_may_receive_is_not_started(owner, offer, segment, mailbox):
    person(owner, "Carla", "carla@example.com", consent=False)
    mailing = make_mailing(owner, offer, segment, mailbox)
    with pytest.raises(Exception, match="Nobody in this segment"):
        mailing_start(actor=owner, mailing=mailing)
    mailing.refresh_from_db()
    assert mailing.state == Mailing.DRAFT and not Recipient.objects.exists()


def test_a_mailing_needs_a_segment_of_people_and_a_mailbox_one_may_use(owner, offer, mailbox):
    companies = segment_save(actor=owner, name="Firms", record_type="company",
                             filters={"city": "Haifa"})  # fmt: skip
    with pytest.raises(Exception) as error:
        mailing_save(actor=owner, name="", template=offer, segment=companies, mailbox=None)
    assert set(error.value.message_dict) == {"name", "segment", "mailbox"}
    assert not Unsubscribe.objects.exists()


def test_a_bounce_marks_the_recipient_and_later_mailings_leave_the_address_out(
    owner, offer, segment, mailbox, sink
):
    person(owner, "Anna", "anna@example.com")
    person(owner, "Vera", "vera@example.com")
    mailing = mailing_start(actor=owner, mailing=make_mailing(owner, offer, segment, mailbox))
    assert mailings.send(mailing.pk) == 2
    gone = Recipient.objects.get(mailing=mailing, address="vera@example.com")

    report = BOUNCE.format(message_id=gone.message.message_id).replace("\n", "\r\n")
    message_receive(mailbox=mailbox, raw=report.encode())

    gone.refresh_from_db()
    assert gone.state == Recipient.BOUNCED
    assert mailing_counts(mailing)["bounced"] == 1 and mailing_counts(mailing)["sent"] == 1
    later = audience(segment, owner)
    assert later.receive == 1 and later.left_out == {"bouncing": 1}


def test_a_campaign_s_mailing_to_its_target_group_shows_what_came_of_it(
    owner, admin, offer, segment, mailbox, sink
):
    from django.test import Client

    from accord.marketing.models import Channel
    from accord.marketing.services import campaign_save
    from tests.conftest import log_in

    by_mail = Channel.objects.get(code="email")
    spring = campaign_save(
        actor=admin, data={"name": "Spring", "channel": by_mail, "currency": "EUR"}
    )
    anna = person(owner, "Anna", "anna@example.com")
    person(owner, "Ivan", "ivan@example.com")
    draft = mailing_save(actor=owner, name="Spring", template=offer, segment=segment,
                         mailbox=mailbox, campaign=spring)  # fmt: skip
    mailing = mailing_start(actor=owner, mailing=draft)
    assert mailings.send(mailing.pk) == 2
    Message.objects.create(direction=Message.IN, person=anna, subject="Re: Spring offer",
                           created_at=timezone.now() + timedelta(minutes=5))  # fmt: skip
    client = Client()
    assert log_in(client, admin.email)
    page = client.get(f"/marketing/campaigns/{spring.pk}/")
    [shown] = page.context["mailings"]
    assert (shown.name, shown.counts["sent"], shown.replied) == ("Spring", 2, 1)
    assert 'data-testid="campaign-mailing"' in page.content.decode()
