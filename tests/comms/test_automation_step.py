"""The automation step "Send an e-mail to the client" writes through the comms services:
from the mailbox the step names (else the company's default), on the client's and the
deal's timeline, sent and retried by the worker like any other message."""

import pytest

from accord.automation.models import Run
from accord.automation.services import rule_save
from accord.comms import delivery
from accord.comms.models import Message
from accord.contacts.services import person_create
from accord.core.timeline import timeline_of
from accord.sales.services import deal_create
from tests.comms.conftest import make_mailbox

pytestmark = pytest.mark.django_db(transaction=True)


def email_rule(admin, **params):
    step = {"type": "send_email",
            "params": {"subject": "About {{ deal.title }}", "body": "Hello {{ client.first_name }}",
                       "marketing": False, **params}}  # fmt: skip
    return rule_save(actor=admin, data={"name": "Write on a new deal", "subject": "deal",
                                        "trigger": "created", "enabled": True,
                                        "actions": [step]})  # fmt: skip


def test_the_rule_writes_from_the_mailbox_it_names(admin, owner, smtp_factory, stages):
    default, chosen = smtp_factory(), smtp_factory()
    make_mailbox(admin, default.port, is_default=True)
    support = make_mailbox(admin, chosen.port, address="support@window-shop.example")
    email_rule(admin, mailbox=support.pk)
    vera = person_create(actor=owner, data={"first_name": "Vera", "emails": ["vera@example.com"]})
    deal = deal_create(actor=owner, data={"title": "Balcony", "person": vera})

    message = Message.objects.get()
    assert message.mailbox == support and message.rule_name == "Write on a new deal"
    assert message.subject == "About Balcony" and message.idempotency_key.startswith("automation:")
    for record in (vera, deal):
        [entry] = timeline_of(record, kinds=["email"])
        assert entry.data["by_rule"] == "Write on a new deal"
    # what the step did is on the deal's timeline once: as the e-mail, not again as a note
    assert not timeline_of(deal, kinds=["automation"]).exists()
    delivery.deliver_due()
    assert len(chosen) == 1 and default == [] and chosen[0]["Subject"] == "About Balcony"


def test_without_a_named_mailbox_the_default_one_writes(admin, owner, smtp_factory, stages):
    default = smtp_factory()
    make_mailbox(admin, default.port, is_default=True)
    email_rule(admin)
    vera = person_create(actor=owner, data={"first_name": "Vera", "emails": ["vera@example.com"]})
    deal_create(actor=owner, data={"title": "Balcony", "person": vera})
    delivery.deliver_due()
    assert [m["From"] for m in default] == ["Window Shop <sales@window-shop.example>"]


def test_with_no_mailbox_and_no_mail_server_the_run_fails_saying_where_to_add_one(
    admin, owner, stages, settings
):
    settings.EMAIL_ENABLED = False
    email_rule(admin)
    vera = person_create(actor=owner, data={"first_name": "Vera", "emails": ["vera@example.com"]})
    deal_create(actor=owner, data={"title": "Balcony", "person": vera})
    run = Run.objects.get()
    assert run.status == Run.FAILED
    assert run.error == "There is no mailbox to send from: add one in Settings → E-mail."
    assert not Message.objects.exists()


def test_with_no_mailbox_the_company_mail_server_sends_as_before(
    admin, owner, smtp_server, stages, settings
):
    settings.DEFAULT_FROM_EMAIL = "Window Shop <hello@window-shop.example>"
    email_rule(admin)
    vera = person_create(actor=owner, data={"first_name": "Vera", "emails": ["vera@example.com"]})
    deal_create(actor=owner, data={"title": "Balcony", "person": vera})
    delivery.deliver_due()
    [sent] = smtp_server
    assert sent["From"] == "Window Shop <hello@window-shop.example>"
    assert Message.objects.get().message_id.endswith("@window-shop.example>")


def test_a_mailbox_gone_breaks_the_rule_with_a_reason(admin, sink):
    from django.core.exceptions import ValidationError

    mailbox = make_mailbox(admin, sink.port)
    rule = email_rule(admin, mailbox=mailbox.pk)
    assert rule.enabled
    with pytest.raises(ValidationError) as refused:
        email_rule(admin, mailbox=mailbox.pk + 100)
    assert "The mailbox to send from is gone or not in use" in str(refused.value)
