"""Web forms: saved by marketing, and each request that arrives through one — checked for
bots (a hidden field, the time it took to fill, a rate per address, the allowed sites),
then kept for the worker to file as a client, a deal and a note (.filing), with where the
visitor came from."""

import hashlib
import ipaddress
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.accounts.models import User
from accord.core.custom_fields import active_fields, clean_value
from accord.core.phones import PhoneError, normalize_phone
from accord.core.visibility import WRITE, allows, may_change
from accord.marketing.models import Channel, Submission, Touch, WebForm
from accord.marketing.services.campaigns import may_write_campaign
from accord.sales.models import Pipeline, Stage

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
    back with `errors`, or kept as `submission`, for the worker to file."""

    spam: bool = False
    errors: dict = field(default_factory=dict)
    submission: Submission | None = None


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
    if creates_deal and not deal_pipeline(pipeline):
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


def deal_pipeline(pipeline: Pipeline | None) -> Pipeline | None:
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
    page at `origin`. A bot's is counted and thanked, with nothing kept. A request to
    mend is sent back with its `errors`; any other is kept at once, as it came, and the
    worker files it (accord.marketing.services.filing): a burst of requests is answered
    as fast as it arrives, and none is lost."""
    now = now or timezone.now()
    if _looks_like_a_bot(form, values, origin, own_host, now):
        return _refused(form)
    cleaned, errors = _cleaned(form, values)
    if errors:
        return Received(errors=errors)
    if _too_often(form, address):
        return _refused(form)
    where = {key: str(came_from.get(key) or "").strip()[:500] for key in CAME_FROM}
    submission = Submission.objects.create(  # one INSERT, its own commit: SQLite's one
        form=form, values=cleaned, came_from=where, state=Submission.PENDING,  # writer is
        language=translation.get_language() or "", created_at=now,  # held the least
    )  # fmt: skip
    transaction.on_commit(lambda: submissions_queue(form_id=form.pk, now=timezone.now()))
    return Received(submission=submission)


QUEUED_FOR_LONG = timedelta(minutes=2)  # a mark older than this is of a lost pass


def submissions_queue(*, form_id: int, now: datetime) -> bool:
    """Queue the worker's pass over a form's requests waiting to be filed, unless one is
    waiting already (a burst queues one pass, not one each). Called once they are
    committed; answers whether a pass was queued. A pass that could not be queued (the
    queue away, the database busy) is made up by the worker's catch-up: the request is
    kept already, and the visitor is thanked all the same."""
    from accord.marketing.tasks import file_web_requests  # the task module imports filing

    waiting = Q(requests_queued_at__isnull=True) | Q(requests_queued_at__lt=now - QUEUED_FOR_LONG)
    row = WebForm.objects.filter(pk=form_id)
    try:
        if not row.filter(waiting).exists():
            return False
        with transaction.atomic():
            if not row.filter(waiting).update(requests_queued_at=now):
                return False
            file_web_requests.enqueue(form_id)
    except Exception:
        log.exception("web form %s: the pass over its requests could not be queued", form_id)
        return False
    return True


def _refused(form: WebForm) -> Received:
    WebForm.objects.filter(pk=form.pk).update(refused_as_spam=F("refused_as_spam") + 1)
    return Received(spam=True)


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
    asks_custom = any(item["key"].startswith("cf.") for item in form.fields)
    custom = {f"cf.{f.key}": f for f in active_fields("person")} if asks_custom else {}
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
        elif key in custom:  # checked here too, so that the visitor can mend it
            try:
                clean_value(custom[key], value)
            except (ValueError, ValidationError) as error:
                errors[key] = list(getattr(error, "messages", None) or [str(error)])
        cleaned[key] = value
    if form.consent_text:
        cleaned["consent"] = bool(values.get("consent"))
        if form.consent_required and not cleaned["consent"]:
            errors["consent"] = [_("Tick the box to send the request.")]
    return cleaned, errors


def forget_requests(*, person, addresses: list[tuple[str, str]]) -> None:
    """A client erased on their request: the web-form requests sent from their phones or
    e-mails that no client holds yet (waiting to be filed, or kept without a client) lose
    what they said — and one waiting is not filed, so it cannot bring them back."""
    phones = [value for kind, value in addresses if kind == "phone"]
    emails = [value for kind, value in addresses if kind == "email"]
    if not phones and not emails:
        return
    theirs = Q(values__phone__in=phones) if phones else Q(pk__in=[])
    for email in emails:
        theirs |= Q(values__email__iexact=email)
    found = Submission.objects.filter(theirs, person=None)
    found.filter(state=Submission.PENDING).update(
        state=Submission.DONE, problem=_("Erased on the client's request."), next_try_at=None
    )
    found.update(values={}, came_from={})


def on_erased(event) -> None:
    """A client's personal data erased on their request: what their web-form requests
    said and where their visits came from go too; the counts stay."""
    person_id = event.payload["person_id"]
    Submission.objects.filter(person_id=person_id).update(values={}, came_from={})
    Touch.objects.filter(person_id=person_id).delete()
