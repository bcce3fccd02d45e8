"""Double opt-in: a web form's consent is recorded only when the visitor clicks the link
e-mailed to the address they typed — so nobody is signed up for offers by someone else
typing their address. A link records once, for the person the request came from, and only
while it is fresh."""

import logging
import smtplib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accord.contacts.models import ContactPoint, Person
from accord.contacts.services import person_consent_confirm
from accord.core.company import company
from accord.marketing.models import ConsentRequest, WebForm

log = logging.getLogger(__name__)
LINK_DAYS = 30


def consent_request_make(*, form: WebForm, person: Person, email: str, at: datetime):
    """A request's consent to confirm: the link goes out by the worker after the commit."""
    request = ConsentRequest.objects.create(
        form=form, person=person, email=email.strip().lower(), created_at=at,
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )  # fmt: skip
    transaction.on_commit(lambda: _queue(request.pk))
    return request


def _queue(request_id: int) -> None:
    from accord.marketing.tasks import send_consent_mail  # the task module imports this one

    send_consent_mail.enqueue(request_id)


def consent_link(request: ConsentRequest) -> str:
    return f"{settings.ACCORD_BASE_URL}/c/{request.token}/"


def consent_request_send(request_id: int) -> bool:
    """E-mail the link, once (claimed first, so two workers do not both send it; given
    back when the mail server refuses, for the next try)."""
    claimed = ConsentRequest.objects.filter(pk=request_id, sent_at=None).update(
        sent_at=timezone.now()
    )
    if not claimed:
        return False
    request = ConsentRequest.objects.select_related("form").get(pk=request_id)
    sender = company().name or settings.DEFAULT_FROM_EMAIL
    with translation.override(request.language or settings.LANGUAGE_CODE):
        subject = _("Please confirm: offers from %(sender)s") % {"sender": sender}
        body = _(
            "You sent a request through our site and ticked:\n\n“%(consent)s”\n\n"
            "To confirm it, open this link within %(days)s days and press “Yes, I confirm”:\n"
            "%(link)s\n\n"
            "If it was not you, ignore this letter: nothing is recorded."
        ) % {"consent": request.form.consent_text, "days": LINK_DAYS,
             "link": consent_link(request)}  # fmt: skip
    try:
        EmailMessage(subject, body, to=[request.email]).send()
    except (OSError, smtplib.SMTPException):
        ConsentRequest.objects.filter(pk=request_id).update(sent_at=None)
        raise
    return True


def consent_request_open(token: str, now: datetime | None = None) -> ConsentRequest | None:
    """The request a link names, while it may still be confirmed (or already was)."""
    now = now or timezone.now()
    if not token or len(token) > 64:
        return None
    found = ConsentRequest.objects.select_related("form", "person").filter(token=token).first()
    if found is None or found.created_at < now - timedelta(days=LINK_DAYS):
        return None
    return found


@transaction.atomic
def consent_request_confirm(*, request: ConsentRequest, now: datetime | None = None) -> bool:
    """The click: the consent is recorded on the person, with the form and the address
    confirmed as its source — if the address is still theirs (a visitor who typed a known
    client's phone with their own address signs nobody else up). Once."""
    now = now or timezone.now()
    if not ConsentRequest.objects.filter(pk=request.pk, confirmed_at=None).update(confirmed_at=now):
        return False
    theirs = ContactPoint.objects.filter(
        person_id=request.person_id, kind=ContactPoint.EMAIL, value=request.email.lower()
    ).exists()
    if not theirs:
        log.info("consent request %s: %s is no longer the person's", request.pk, request.email)
        return False
    source = _("%(form)s, confirmed by e-mail") % {"form": request.form.name}
    person_consent_confirm(person_id=request.person_id, source=source, at=now)
    return True


def on_erased(event) -> None:
    """A client erased on their request: the addresses their requests named go too."""
    ConsentRequest.objects.filter(person_id=event.payload.get("person_id")).delete()
