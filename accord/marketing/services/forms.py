"""Web forms: saved by marketing, and each request that arrives through one — checked for
bots (a hidden field, the time it took to fill, a rate per address, the allowed sites),
then turned into a client (matched by e-mail or phone), a deal and a note through the
contacts, sales and work services, with where the visitor came from."""

import hashlib
import ipaddress
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.accounts.models import User
from accord.contacts.models import Person
from accord.contacts.queries import likely_duplicates
from accord.contacts.services import note_add, person_create
from accord.core.custom_fields import active_fields
from accord.core.events import emit
from accord.core.phones import PhoneError, normalize_phone
from accord.core.visibility import WRITE, allows, may_change
from accord.marketing.models import Campaign, Channel, Submission, Touch, WebForm
from accord.marketing.services.campaigns import may_write_campaign
from accord.marketing.services.consent import consent_request_make
from accord.sales.models import Deal, Pipeline, Stage
from accord.sales.services import deal_create

# The fields a form may ask, with their labels and lengths; "cf.<key>" adds a custom field.
FIELDS = {
    "name": (gettext_lazy("Name"), 200),
    "first_name": (gettext_lazy("First name"), 100),
    "last_name": (gettext_lazy("Last name"), 100),
    "email": (gettext_lazy("E-mail"), 254),
    "phone": (gettext_lazy("Phone"), 40),
    "company": (gettext_lazy("Company"), 200),
    "city": (gettext_lazy("City"), 100),
    "message": (gettext_lazy("Message"), 5000),
}
CAME_FROM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
             "gclid", "fbclid", "referrer", "landing_page")  # fmt: skip
# What a link's utm_medium says of the kind of channel, when its utm_source names none.
MEDIUMS = {
    "cpc": Channel.ADS, "ppc": Channel.ADS, "paid": Channel.ADS, "display": Channel.ADS,
    "banner": Channel.ADS, "social": Channel.SOCIAL, "paid_social": Channel.SOCIAL,
    "email": Channel.EMAIL, "newsletter": Channel.EMAIL, "referral": Channel.REFERRAL,
    "messenger": Channel.MESSENGER,
}  # fmt: skip
HONEYPOT = "accord_trap"  # hidden from people (a name no browser autofills); a bot fills it
STARTED = "started"  # when the page showed the form, signed
MIN_SECONDS = 3  # a person takes longer than this to fill a form
MARK_AGE = 86_400  # seconds a shown form's start is checked for; older, it is a person's
RATE, RATE_WINDOW = 5, 600  # requests per address and form in ten minutes
SALT = "accord.marketing.form"
log = logging.getLogger(__name__)
HOST = re.compile(r"^[a-z0-9.-]+(:\d+)?$")


@dataclass
class Received:
    """What became of a request: refused as a bot's (it is thanked all the same), sent
    back with `errors`, or kept as `person` (and `deal`)."""

    spam: bool = False
    errors: dict = field(default_factory=dict)
    person: Person | None = None
    deal: Deal | None = None


def started_mark(now: datetime | None = None) -> str:
    """The signed moment a form was shown, for its hidden STARTED field."""
    return signing.dumps((now or timezone.now()).timestamp(), salt=SALT)


@transaction.atomic
def form_save(*, actor: User, data: dict, form: WebForm | None = None) -> WebForm:
    """A web form, checked: what it asks (an e-mail or a phone among it, so the lead can be
    reached), its texts and addresses, and that its author may make what it makes (the
    requests arrive in the author's name)."""
    if not may_write_campaign(actor):  # web forms are the company's, not one owner's
        raise PermissionDenied(_("Your role does not allow changing web forms."))
    errors: dict[str, list[str]] = {}
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 200:
        errors["name"] = [_("Name the form (at most 200 characters).")]
    asked = _asked(data.get("fields") or [], errors)
    consent_text = str(data.get("consent_text") or "").strip()[:2000]
    consent_required = bool(data.get("consent_required"))
    double_opt_in = bool(data.get("double_opt_in"))
    if (consent_required or double_opt_in) and not consent_text:
        errors["consent_text"] = [_("Write the consent the visitor gives.")]
    redirect_url = str(data.get("redirect_url") or "").strip()
    if redirect_url:
        try:
            URLValidator(schemes=["http", "https"])(redirect_url)
        except ValidationError:
            errors["redirect_url"] = [_("Enter a web address, such as https://example.com/thanks.")]
    sites = _sites(str(data.get("allowed_sites") or ""), errors)
    team, creates_deal = data.get("team"), bool(data.get("creates_deal"))
    pipeline = data.get("pipeline")
    if creates_deal and not _deal_pipeline(pipeline):
        errors["pipeline"] = [_("Deals need a pipeline with an open stage (Settings → Pipelines).")]
    if team is not None and not allows(
        actor, record_type="clients", action=WRITE, owner_id=0, owner_team_id=team.pk
    ):
        errors["team"] = [_("You may not hand clients to %(team)s.") % {"team": team}]
    if creates_deal and not may_change(actor, "deals", actor):
        errors["creates_deal"] = [_("Your role does not make deals; ask an administrator.")]
    if errors:
        raise ValidationError(errors)
    if form is None:
        form = WebForm(created_by=actor)
    else:
        form = WebForm.objects.select_for_update().get(pk=form.pk)
        form.version += 1
    form.name, form.fields, form.allowed_sites = name, asked, "\n".join(sites)
    form.consent_text, form.consent_required, form.redirect_url = (
        consent_text, consent_required, redirect_url,
    )  # fmt: skip
    form.double_opt_in = double_opt_in
    form.thanks_text = str(data.get("thanks_text") or "").strip()[:2000]
    form.channel, form.campaign = data.get("channel"), data.get("campaign")
    form.team, form.pipeline, form.creates_deal = team, pipeline, creates_deal
    form.retired = bool(data.get("retired"))
    form.save()
    return form


def _deal_pipeline(pipeline: Pipeline | None) -> Pipeline | None:
    """The pipeline a form's deals go to (the first in use when it names none), if it has
    an open stage to start in."""
    pipeline = pipeline or Pipeline.objects.filter(retired=False).first()
    if pipeline is None or pipeline.retired:
        return None
    open_stages = pipeline.stages.filter(kind=Stage.OPEN, retired=False)
    return pipeline if open_stages.exists() else None


def _asked(fields: list, errors: dict) -> list[dict]:
    custom = {f"cf.{f.key}" for f in active_fields("person")}
    asked, seen = [], set()
    for item in fields:
        key = str(item.get("key") if isinstance(item, dict) else item)
        if key in seen:
            continue
        if key not in FIELDS and key not in custom:
            errors["fields"] = [_("There is no field “%(name)s”.") % {"name": key}]
            return []
        seen.add(key)
        asked.append(
            {"key": key, "required": bool(isinstance(item, dict) and item.get("required"))}
        )
    if not seen & {"email", "phone"}:
        errors["fields"] = [_("A form asks at least an e-mail or a phone, to answer the request.")]
    return asked


def _sites(text: str, errors: dict) -> list[str]:
    sites = []
    for line in text.splitlines():
        line = line.strip().lower()
        if not line:
            continue
        host = urlsplit(line if "//" in line else f"//{line}").netloc
        if not HOST.match(host):
            errors["allowed_sites"] = [_("“%(site)s” is not a site's address.") % {"site": line}]
            return []
        sites.append(host)
    return sites[:50]


def submission_receive(
    *, form: WebForm, values, came_from: dict, address: str, origin: str, own_host: str,
    now: datetime | None = None,
) -> Received:  # fmt: skip
    """A request sent through `form` from `address` (the visitor's IP), posted from the
    page at `origin`. A bot's is counted and thanked, with nothing made. A request the
    services refuse is kept with the reason (and thanked): a lead is never lost."""
    now = now or timezone.now()
    if _looks_like_a_bot(form, values, origin, own_host, now):
        return _refused(form)
    cleaned, errors = _cleaned(form, values)
    if errors:
        return Received(errors=errors)
    if _too_often(form, address):
        return _refused(form)
    where = {key: str(came_from.get(key) or "").strip()[:500] for key in CAME_FROM}
    try:
        with transaction.atomic():
            return _receive(form, cleaned, where, now)
    except ValidationError as error:
        mendable = _mendable(error)
        if mendable:
            return Received(errors=mendable)
        problem = "; ".join(error.messages)
    except PermissionDenied as refusal:
        problem = str(refusal)
    log.warning("web form %s: a request made no client: %s", form.pk, problem)
    Submission.objects.create(form=form, values=cleaned, came_from=where, problem=problem[:2000])
    WebForm.objects.filter(pk=form.pk).update(received=F("received") + 1)
    return Received()


def _receive(form: WebForm, cleaned: dict, where: dict, now) -> Received:
    person = _client(form, cleaned)
    if cleaned.get("consent") and form.double_opt_in and cleaned.get("email"):
        consent_request_make(form=form, person=person, email=cleaned["email"], at=now)
    deal = _deal(form, person) if form.creates_deal else None
    _remember_touch(form, person, deal, where, now)
    _note(form, person, cleaned, where)
    submission = Submission.objects.create(
        form=form, person=person, deal=deal, values=cleaned, came_from=where
    )
    WebForm.objects.filter(pk=form.pk).update(received=F("received") + 1)
    emit(
        "webform.submitted",
        form_id=form.pk,
        submission_id=submission.pk,
        person_id=person.pk,
        deal_id=deal.pk if deal else None,
    )
    return Received(person=person, deal=deal)


def _refused(form: WebForm) -> Received:
    WebForm.objects.filter(pk=form.pk).update(refused_as_spam=F("refused_as_spam") + 1)
    return Received(spam=True)


def _mendable(error: ValidationError) -> dict:
    """A custom field's refusal, said on the visitor's field (cf.<key>)."""
    found = getattr(error, "error_dict", {})
    return {
        f"cf.{key.removeprefix('custom_fields.')}": [str(m) for m in messages.messages]
        for key, messages in found.items()
        if key.startswith("custom_fields.")
    }


def _looks_like_a_bot(form, values, origin: str, own_host: str, now) -> bool:
    """The hidden field filled, a form sent faster than a person could (or with a forged
    start), or posted from a site the form does not allow."""
    if str(values.get(HONEYPOT) or "").strip():
        return True
    mark = values.get(STARTED)
    if mark:
        try:
            shown = signing.loads(mark, salt=SALT, max_age=MARK_AGE)
        except signing.SignatureExpired:
            shown = 0  # a page left open for days: a person's, however slow
        except signing.BadSignature:
            return True
        if now.timestamp() - float(shown) < MIN_SECONDS:
            return True
    allowed = set(form.allowed_sites.split()) | {own_host}
    host = urlsplit(origin).netloc.lower() if origin else ""
    return bool(form.allowed_sites and host and host not in allowed)


def _too_often(form: WebForm, address: str) -> bool:
    """More than RATE requests from one address (an IPv6 network /64) in RATE_WINDOW;
    only requests that could be kept count, so a visitor's own corrections do not."""
    try:
        network = ipaddress.ip_network(f"{address}/{64 if ':' in address else 32}", strict=False)
        address = str(network.network_address)
    except ValueError:
        pass
    key = f"accord:form-rate:{form.pk}:{hashlib.sha256(address.encode()).hexdigest()[:16]}"
    cache.add(key, 0, RATE_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, RATE_WINDOW)
        count = 1
    return count > RATE


def _cleaned(form: WebForm, values) -> tuple[dict, dict]:
    cleaned, errors = {}, {}
    custom = {f"cf.{f.key}": f for f in active_fields("person")}
    for item in form.fields:
        key = item["key"]
        limit = FIELDS[key][1] if key in FIELDS else 500
        value = str(values.get(key) or "").strip()
        if not value:
            if item.get("required"):
                errors[key] = [_("Fill this in.")]
            continue
        if len(value) > limit:
            errors[key] = [_("At most %(limit)s characters.") % {"limit": limit}]
        elif key == "email":
            try:
                validate_email(value)
            except ValidationError:
                errors[key] = [_("Enter an e-mail address, such as anna@example.com.")]
        elif key == "phone":
            try:
                value = normalize_phone(value)
            except PhoneError as error:
                errors[key] = [str(error)]
        elif key in custom:
            pass  # checked by the contacts services as the person is saved
        cleaned[key] = value
    if form.consent_text:
        cleaned["consent"] = bool(values.get("consent"))
        if form.consent_required and not cleaned["consent"]:
            errors["consent"] = [_("Tick the box to send the request.")]
    return cleaned, errors


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
    pipeline = _deal_pipeline(form.pipeline)
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


def on_erased(event) -> None:
    """A client's personal data erased on their request: what their web-form requests
    said and where their visits came from go too; the counts stay."""
    person_id = event.payload["person_id"]
    Submission.objects.filter(person_id=person_id).update(values={}, came_from={})
    Touch.objects.filter(person_id=person_id).delete()
