"""Web-form requests filed by the worker: each kept request (see .forms) becomes a client
(found by e-mail or phone, or made, and given out by the team's lead rule), a deal, its
touches and a note, through the contacts, sales and work services — each in a transaction
of its own, so a request the services refuse is kept with the reason and the others go
on; one that fails is tried again later, and after a few tries kept with the error (and
may be filed again by hand). A lead is never lost."""

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.contacts.models import Person
from accord.contacts.queries import likely_duplicates
from accord.contacts.services import note_add, person_create
from accord.core.events import emit
from accord.marketing.models import Campaign, Channel, Submission, Touch, WebForm
from accord.marketing.services.campaigns import may_write_campaign
from accord.marketing.services.consent import consent_request_make
from accord.marketing.services.forms import (
    CAME_FROM,
    FIELDS,
    MEDIUMS,
    deal_pipeline,
    submissions_queue,
)
from accord.sales.models import Deal
from accord.sales.services import deal_create

log = logging.getLogger(__name__)

PASS_SECONDS = 10.0  # a pass files for this long, then queues the next one
CHUNK = 10  # requests filed between two looks at whether more are pouring in
RETRY_AFTER = timedelta(minutes=1)  # a request still waiting this long: its pass was lost
TRIES = 5  # failed filings before a request is kept with its error
BURST_AT = 20  # requests waiting at once: a burst, not a visitor or two
QUIET, YIELD_AT_MOST = 0.5, 30.0  # seconds: see _pouring_in


def submissions_drain(*, form_id: int, seen: int = 0, waited: float = 0.0) -> int:
    """The worker's pass: a form's requests filed in arrival order until none is due (a
    long run: the next pass queued). While a burst pours in, it lets the pages take it
    first (see _pouring_in) and comes back QUIET seconds later. Answers how many it filed."""
    WebForm.objects.filter(pk=form_id).update(requests_queued_at=None)
    began, filed = time.monotonic(), 0
    while True:
        newest = _pouring_in(seen)
        if newest and waited < YIELD_AT_MOST:
            _queue_later(form_id, seen=newest, waited=waited + QUIET)
            return filed
        seen = newest or _newest()
        ids = list(_due(form_id, timezone.now()).values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return filed
        filed += sum(submission_file(submission_id=pk) for pk in ids)
        if time.monotonic() - began >= PASS_SECONDS:
            submissions_queue(form_id=form_id, now=timezone.now())
            return filed


def _newest() -> int:
    return Submission.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _pouring_in(seen: int) -> int:
    """The newest request's id when a burst is arriving — many waiting, and new ones since
    the pass last looked (`seen`) — else 0. Filing one takes many times what keeping one
    does, and SQLite has one writer (a small server, two cores): filing in the middle of
    a burst would slow the pages that answer it. A flood that does not stop is filed all
    the same once the pass has waited YIELD_AT_MOST."""
    if Submission.objects.filter(state=Submission.PENDING).count() <= BURST_AT:
        return 0
    newest = _newest()
    return newest if newest != seen else 0


def _queue_later(form_id: int, *, seen: int, waited: float) -> None:
    """The pass again in QUIET seconds (the mark set: the pages queue no other)."""
    from accord.marketing.tasks import file_web_requests  # the task module imports this one

    now = timezone.now()
    WebForm.objects.filter(pk=form_id).update(requests_queued_at=now)
    try:
        file_web_requests.using(run_after=now + timedelta(seconds=QUIET)).enqueue(
            form_id, seen=seen, waited=waited
        )
    except Exception:  # the queue is away: the catch-up queues the pass
        log.exception("web form %s: the next pass could not be queued", form_id)


def _due(form_id: int, now: datetime):
    waiting = Submission.objects.filter(form_id=form_id, state=Submission.PENDING)
    return waiting.filter(Q(next_try_at=None) | Q(next_try_at__lte=now)).order_by(
        "created_at", "pk"
    )


def submissions_catch_up(now: datetime) -> int:
    """The worker's tick: a pass queued for each form with requests waiting longer than
    RETRY_AFTER (its pass lost with the queue) or due to be tried again. Answers how many
    passes it queued."""
    stale = Submission.objects.filter(state=Submission.PENDING, created_at__lte=now - RETRY_AFTER)
    stale = stale.filter(Q(next_try_at=None) | Q(next_try_at__lte=now))
    forms = set(stale.values_list("form_id", flat=True)[:1000])
    return sum(submissions_queue(form_id=form_id, now=now) for form_id in sorted(forms))


def submission_file(*, submission_id: int) -> bool:
    """File one waiting request (claimed in its transaction: two workers never file it
    twice; the form's row is not locked, so its page keeps taking requests); answers
    whether it was filed — made a client, or kept with why not."""
    try:
        with transaction.atomic():
            submission = (
                Submission.objects.select_for_update(of=("self",))
                .select_related("form")
                .filter(pk=submission_id, state=Submission.PENDING)
                .first()
            )
            if submission is None:
                return False
            with translation.override(submission.language or settings.LANGUAGE_CODE):
                _file(submission)
            return True
    except ValidationError as error:
        problem = "; ".join(error.messages)
    except PermissionDenied as refusal:
        problem = str(refusal)
    except Exception as error:
        log.exception("web-form request %s could not be filed", submission_id)
        _failed(submission_id, error)
        return False
    log.warning("web-form request %s made no client: %s", submission_id, problem)
    _kept_unfiled(submission_id, problem)
    return True


def _kept_unfiled(submission_id: int, problem: str) -> None:
    with transaction.atomic():
        if Submission.objects.filter(pk=submission_id, state=Submission.PENDING).update(
            state=Submission.DONE, problem=problem[:2000], next_try_at=None
        ):
            WebForm.objects.filter(submissions=submission_id).update(received=F("received") + 1)


def _failed(submission_id: int, error: Exception) -> None:
    """A try that failed: tried again later (1, 2, 4, 8 minutes on); the database busy or
    away counts no try. The last try keeps the request, with the kind of error (the
    server's log has the rest: it may hold other records' values)."""
    transient = isinstance(error, OperationalError | InterfaceError)
    row = Submission.objects.filter(pk=submission_id, state=Submission.PENDING)
    tries = (row.values_list("attempts", flat=True).first() or 0) + (0 if transient else 1)
    if tries >= TRIES:
        problem = _("It could not be filed (%(kind)s; the server's log says more).") % {
            "kind": type(error).__name__
        }
        _kept_unfiled(submission_id, problem)
        return
    row.update(attempts=tries, next_try_at=timezone.now() + RETRY_AFTER * 2 ** max(0, tries - 1))


def submissions_refile(*, actor: User, submission: Submission) -> Submission:
    """A request kept without a client (its reason mended since: an administrator back,
    a custom field fixed) filed again, from the start."""
    if not may_write_campaign(actor):
        raise PermissionDenied(_("Your role does not allow changing web forms."))
    with transaction.atomic():
        again = Submission.objects.filter(
            pk=submission.pk, state=Submission.DONE, person=None
        ).exclude(problem="")
        if not again.update(state=Submission.PENDING, problem="", attempts=0, next_try_at=None):
            raise ValidationError(_("Only a request that made no client can be filed again."))
        WebForm.objects.filter(pk=submission.form_id).update(received=F("received") - 1)
        transaction.on_commit(
            lambda: submissions_queue(form_id=submission.form_id, now=timezone.now())
        )
    submission.refresh_from_db()
    return submission


def _file(submission: Submission) -> None:
    form, cleaned, where = submission.form, submission.values, submission.came_from
    where = {key: str(where.get(key) or "") for key in CAME_FROM}
    now = submission.created_at
    person = _client(form, cleaned)
    if cleaned.get("consent") and form.double_opt_in and cleaned.get("email"):
        consent_request_make(form=form, person=person, email=cleaned["email"], at=now)
    deal = _deal(form, person) if form.creates_deal else None
    _remember_touch(form, person, deal, where, now)
    _note(form, person, cleaned, where)
    submission.person, submission.deal, submission.state = person, deal, Submission.DONE
    submission.save(update_fields=["person", "deal", "state"])
    WebForm.objects.filter(pk=form.pk).update(received=F("received") + 1)
    emit(
        "webform.submitted",
        form_id=form.pk,
        submission_id=submission.pk,
        person_id=person.pk,
        deal_id=deal.pk if deal else None,
    )


def _actor(form: WebForm) -> User:
    """Requests arrive in the name of the form's author (or an administrator, once the
    author has left)."""
    author = form.created_by
    if author is not None and author.is_active:
        return author
    admin = User.objects.filter(role__slug="administrator", is_active=True).first()
    if admin is None:
        raise PermissionDenied(_("Nobody may receive this form's requests."))
    return admin


def _client(form: WebForm, cleaned: dict) -> Person:
    """The person the request is from: found by e-mail or phone (and left as they are:
    a visitor who knows a client's number changes nothing of theirs — the note says
    what they sent), else made."""
    actor = _actor(form)
    email, phone = cleaned.get("email", "").lower(), cleaned.get("phone", "")
    found = likely_duplicates(actor, "person", [phone], [email])
    if found:
        return found[0]
    first, last = cleaned.get("first_name", ""), cleaned.get("last_name", "")
    if not first and not last:
        first, _space, last = cleaned.get("name", "").partition(" ")
    if not first and not last:  # nameless: named by its address, the request still kept
        first = email or phone
    data = {
        "first_name": first[:100], "last_name": last[:100], "emails": [email] if email else [],
        "phones": [phone] if phone else [], "city": cleaned.get("city", ""),
        "source": str(form.channel or _("web form")),
    }  # fmt: skip
    if cleaned.get("consent") and not form.double_opt_in:  # else: once the link is clicked
        data |= {"marketing_consent": True, "consent_source": form.name}
    custom = {key[3:]: value for key, value in cleaned.items() if key.startswith("cf.")}
    if custom:
        data["custom_fields"] = custom
    if form.team is not None:
        data["assign_team"] = form.team
    return person_create(actor=actor, data=data)


def _deal(form: WebForm, person: Person) -> Deal:
    actor = _actor(form)
    owner = person.owner if person.owner is not None and person.owner.is_active else actor
    title = _("%(form)s: %(client)s") % {"form": form.name, "client": person}
    data = {"title": title[:200], "person": person, "owner": owner}
    pipeline = deal_pipeline(form.pipeline)
    if pipeline is not None:
        data["pipeline"] = pipeline
    return deal_create(actor=actor, data=data)


def _remember_touch(form: WebForm, person: Person, deal: Deal | None, where: dict, now) -> None:
    """The visitor's first touch is kept, the last follows this request; a new deal keeps
    this one."""
    campaign = None
    if where["utm_campaign"]:
        campaign = Campaign.objects.filter(code__iexact=where["utm_campaign"]).first()
    campaign = campaign or form.campaign
    channel = None
    if where["utm_source"]:
        channel = Channel.objects.filter(code__iexact=where["utm_source"]).first()
    kind = MEDIUMS.get(where["utm_medium"].lower())
    if channel is None and kind:
        channel = Channel.objects.filter(kind=kind, retired=False).first()
    channel = channel or (campaign.channel if campaign else None) or form.channel
    facts = {
        "channel": channel, "campaign": campaign, "source": where["utm_source"][:200],
        "medium": where["utm_medium"][:200], "campaign_code": where["utm_campaign"][:200],
        "term": where["utm_term"][:200], "content": where["utm_content"][:200],
        "gclid": where["gclid"][:200], "fbclid": where["fbclid"][:200],
        "referrer": where["referrer"], "landing_page": where["landing_page"], "form": form,
        "at": now,
    }  # fmt: skip
    touches = Touch.objects.filter(person=person, deal=None)
    if not touches.filter(kind=Touch.FIRST).exists():
        Touch.objects.create(person=person, kind=Touch.FIRST, **facts)
    last = touches.filter(kind=Touch.LAST).order_by("-at", "-id").first()
    if last is None:
        Touch.objects.create(person=person, kind=Touch.LAST, **facts)
    else:  # after a merge there may be two: the latest follows
        touches.filter(pk=last.pk).update(**facts)
    if deal is not None:
        Touch.objects.create(person=person, deal=deal, kind=Touch.LAST, **facts)


def _note(form: WebForm, person: Person, cleaned: dict, where: dict) -> None:
    """The request's own words on the client's timeline, with where it came from."""
    lines = [_("Request through the web form “%(form)s”.") % {"form": form.name}]
    if cleaned.get("message"):
        lines.append(cleaned["message"])
    labels = {key: str(label) for key, (label, _limit) in FIELDS.items()}
    for key, value in cleaned.items():  # what the card does not show by itself
        if key == "company" or key.startswith("cf."):
            lines.append(f"{labels.get(key, key[3:])}: {value}")
    if cleaned.get("consent"):
        lines.append(_("Ticked: %(consent)s") % {"consent": form.consent_text})
        if form.double_opt_in and cleaned.get("email"):
            lines.append(_("Recorded once confirmed through the link sent to %(email)s.")
                         % {"email": cleaned["email"]})  # fmt: skip
        elif form.double_opt_in:
            lines.append(_("Not recorded: there is no e-mail address to confirm it."))
    source = ", ".join(f"{key}={where[key]}" for key in CAME_FROM[:5] if where[key])
    if source:
        lines.append(_("Came from: %(source)s") % {"source": source})
    note_add(actor=_actor(form), record=person, text="\n".join(lines))
