"""Double opt-in: a web form set to confirm the consent by e-mail records it only when
the visitor clicks the link sent to the address they typed — once, while the link is fresh,
and for nobody else whose phone they may have typed."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from accord.contacts.models import Person
from accord.contacts.services import person_create, person_erase
from accord.core.models import TimelineEvent
from accord.marketing.models import Channel, ConsentRequest
from accord.marketing.services import form_save
from tests.conftest import run_worker
from tests.marketing.test_web_forms import CONTACT, visitor_sends

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_rate_counts():
    cache.clear()


@pytest.fixture
def confirmed_form(admin):
    return form_save(actor=admin, data={
        "name": "Newsletter", "fields": CONTACT, "creates_deal": False,
        "channel": Channel.objects.get(code="site"), "consent_text": "Send me offers",
        "double_opt_in": True,
    })  # fmt: skip


def sends(form, name: str, phone: str, email: str = "") -> None:
    data = {"name": name, "phone": phone, "consent": "1", **({"email": email} if email else {})}
    assert visitor_sends(Client(), form, data).status_code == 200


def link_in(mail) -> str:
    body = mail.get_payload(decode=True).decode()
    return next(word for word in body.split() if "/c/" in word).split("/c/", 1)[1].strip("/")


def test_the_consent_counts_once_the_visitor_clicks_the_e_mailed_link(confirmed_form, smtp_server):
    sent = visitor_sends(Client(), confirmed_form, {
        "name": "Anna Petrova", "phone": "+7 916 123-45-67", "email": "Anna@Example.com",
        "consent": "1",
    })  # fmt: skip
    assert sent.status_code == 200
    anna = Person.objects.get()
    assert not anna.marketing_consent  # not yet: only ticked
    run_worker()
    (mail,) = smtp_server
    assert (
        mail["To"] == "anna@example.com"
        and "Send me offers" in mail.get_payload(decode=True).decode()
    )
    token = link_in(mail)

    visitor = Client(enforce_csrf_checks=True)
    page = visitor.get(f"/c/{token}/")
    assert page.status_code == 200 and "Yes, I confirm" in page.content.decode()
    anna.refresh_from_db()
    assert not anna.marketing_consent  # opening the link (a mail scanner does) records nothing
    csrf = page.content.decode().split('name="csrfmiddlewaretoken" value="', 1)[1].split('"')[0]
    done = visitor.post(f"/c/{token}/", {"csrfmiddlewaretoken": csrf})
    assert done.status_code == 200 and "Your consent is confirmed." in done.content.decode()
    anna.refresh_from_db()
    assert anna.marketing_consent and anna.consent_source == "Newsletter, confirmed by e-mail"
    change = TimelineEvent.objects.filter(subject_id=anna.pk, kind="changed").latest("pk")
    assert change.actor is None
    assert {"field": "marketing_consent", "old": False, "new": True} in change.data["changes"]
    again = visitor.post(f"/c/{token}/", {"csrfmiddlewaretoken": csrf})
    assert again.status_code == 200  # a second click: thanked, nothing more
    assert TimelineEvent.objects.filter(subject_id=anna.pk, kind="changed").count() == 1


def test_without_an_address_or_after_30_days_nothing_is_recorded(confirmed_form, smtp_server):
    sends(confirmed_form, "Oleg", "+79160000001")
    oleg = Person.objects.get()
    assert not ConsentRequest.objects.exists() and not oleg.marketing_consent
    note = TimelineEvent.objects.filter(subject_id=oleg.pk, kind="note").get()
    assert "no e-mail address to confirm it" in note.data["text"]

    sends(confirmed_form, "Vera", "+79160000002", "vera@example.com")
    request = ConsentRequest.objects.get()
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        late = Client().post(f"/c/{request.token}/")
    assert late.status_code == 404 and "no longer works" in late.content.decode()
    assert Client().get("/c/not-a-token/").status_code == 404
    assert not Person.objects.get(first_name="Vera").marketing_consent


def test_a_visitor_typing_a_known_clients_phone_signs_nobody_up(confirmed_form, owner, smtp_server):
    known = person_create(actor=owner, data={"first_name": "Karl", "phones": ["+79160000003"],
                                             "emails": ["karl@example.com"]})  # fmt: skip
    sends(confirmed_form, "Prankster", "+79160000003", "prank@example.com")
    request = ConsentRequest.objects.get()
    assert request.person == known  # the request was Karl's number
    Client().post(f"/c/{request.token}/")
    known.refresh_from_db()
    assert not known.marketing_consent  # the address confirmed is not Karl's
    assert ConsentRequest.objects.get().confirmed_at is not None  # the link is used up


def test_an_erased_client_s_addresses_to_confirm_go_with_them(confirmed_form, admin, smtp_server):
    sends(confirmed_form, "Ida", "+79160000004", "ida@example.com")
    person_erase(actor=admin, person=Person.objects.get())
    assert not ConsentRequest.objects.exists()


def test_double_opt_in_needs_a_consent_text(admin):
    with pytest.raises(ValidationError) as refused:
        form_save(actor=admin, data={"name": "No text", "fields": CONTACT,
                                     "creates_deal": False, "double_opt_in": True})  # fmt: skip
    assert "consent_text" in refused.value.message_dict
