"""API: e-mail templates (list, read, create, change, remove), mailings (create, start,
pause, resume, cancel, status with counts, recipients) and unsubscribes (list; the public
one-click address is the /u/<token> page, not the API)."""

from datetime import datetime
from typing import Annotated

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from accord.comms.models import EmailTemplate, Recipient, Unsubscribe
from accord.comms.queries import mailboxes_visible_to, mailings_visible_to, templates_for
from accord.comms.services import (
    audience,
    mailing_cancel,
    mailing_counts,
    mailing_pause,
    mailing_resume,
    mailing_save,
    mailing_start,
    template_delete,
    template_save,
)
from accord.comms.services.mailings import may_send_mailings
from accord.comms.services.templates import may_manage_templates
from accord.comms.tracking import mailing_tracking
from accord.contacts.queries import segments_visible_to
from accord.core.api.concurrency import ANSWERS_ETAG, CREATES, TAKES_IF_MATCH, etag_of, run_if_match
from accord.core.api.pagination import ListParams, Page, paginate
from accord.core.api.problems import Problem, invalid, one_of
from accord.core.api.schemas import RecordId, WithId

router = Router(tags=["mailings"])


def ref(value_id) -> str | None:
    return str(value_id) if value_id else None


# --- Templates ----------------------------------------------------------------------------


class Variant(Schema):
    subject: str = ""
    html: str = ""


class TemplateOut(WithId):
    name: str
    subject: str
    html: str
    text: str
    marketing: bool
    tracked: bool = Field(
        description="Opens and clicks of the messages sent from it are tracked (an invisible "
        "image, links through Accord)"
    )
    variants: dict[str, dict[str, str]]
    version: int
    created_at: datetime
    updated_at: datetime


class TemplateIn(Schema):
    name: str | None = None
    subject: str | None = None
    html: str | None = Field(
        None, description="HTML (sanitised); merge fields as {{ client.first_name }}."
    )
    marketing: bool | None = None
    tracked: bool | None = Field(
        None, description="Track opens and clicks of the messages sent from it (default off)."
    )
    variants: dict[str, Variant] | None = Field(
        None, description='A variant per language: {"ru": {"subject": "…", "html": "…"}}.'
    )


class TemplateCreate(TemplateIn):
    name: str
    subject: str
    html: str


def _template_data(payload: TemplateIn, template: EmailTemplate | None) -> dict:
    data = payload.dict(exclude_unset=True)
    current = {
        "name": template.name if template else "",
        "subject": template.subject if template else "",
        "html": template.html if template else "",
        "marketing": template.marketing if template else False,
        "tracked": template.tracked if template else False,
        "variants": template.variants if template else {},
    }
    return {**current, **{key: value for key, value in data.items() if value is not None}}


def _require_templates(request) -> None:
    if not may_manage_templates(request.auth):
        raise Problem(403, "Only those who manage e-mail change templates.")


@router.get("/email-templates", response=Page[TemplateOut], summary="E-mail templates")
def templates_list(request, params: Query[ListParams]):
    return paginate(templates_for(request.auth), params, sorts={"name", "id"}, default_sort="name")


@router.get(
    "/email-templates/{template_id}",
    response=TemplateOut,
    summary="One template",
    openapi_extra=ANSWERS_ETAG,
)
def templates_detail(request, response: HttpResponse, template_id: RecordId):
    template = get_object_or_404(templates_for(request.auth), pk=template_id)
    response["ETag"] = etag_of(template)
    return template


@router.post(
    "/email-templates",
    response={201: TemplateOut},
    summary="Write a template",
    openapi_extra=CREATES,
)
def templates_create(request, response: HttpResponse, payload: TemplateCreate):
    _require_templates(request)
    try:
        template = template_save(actor=request.auth, **_template_data(payload, None))
    except ValidationError as error:
        raise invalid(error) from None
    response["Location"] = f"/api/v1/email-templates/{template.pk}"
    response["ETag"] = etag_of(template)
    return Status(201, template)


@router.patch(
    "/email-templates/{template_id}",
    response=TemplateOut,
    summary="Change a template (send If-Match)",
    openapi_extra=TAKES_IF_MATCH,
)
def templates_update(request, response: HttpResponse, template_id: RecordId, payload: TemplateIn):
    _require_templates(request)
    template = run_if_match(
        request,
        templates_for(request.auth),
        template_id,
        lambda template, version: template_save(
            actor=request.auth,
            template=template,
            version=version,
            **_template_data(payload, template),
        ),
    )
    response["ETag"] = etag_of(template)
    return template


@router.delete(
    "/email-templates/{template_id}",
    response={204: None},
    summary="Remove a template (not one a mailing uses)",
)
def templates_delete(request, template_id: RecordId):
    _require_templates(request)
    template = get_object_or_404(templates_for(request.auth), pk=template_id)
    try:
        template_delete(actor=request.auth, template=template)
    except ValidationError as error:
        raise invalid(error) from None
    return Status(204, None)


# --- Mailings -----------------------------------------------------------------------------


class Counts(Schema):
    total: int
    queued: int
    sending: int
    sent: int
    failed: int
    bounced: int
    unsubscribed: int
    skipped: int
    cancelled: int


class TrackingOut(Schema):
    sent: int = Field(description="Messages sent with tracking")
    opened: int = Field(description="Of those, opened (a click counts as an open)")
    clicked: int = Field(description="Of those, with a link clicked")


class MailingOut(WithId):
    name: str
    state: str
    template: str | None = Field(description="An e-mail mailing's template; null: an SMS one")
    messenger: str | None = Field(description="An SMS mailing's connection")
    text: str = Field(description="An SMS mailing's text")
    segment: str | None
    segment_name: str
    mailbox: str | None
    audience: dict
    counts: Counts
    tracked: bool = Field(description="Its template tracks opens and clicks")
    tracking: TrackingOut = Field(
        description="Opens and clicks of its tracked messages; approximate (images blocked, "
        "links followed by mail scanners)"
    )
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    version: int

    @staticmethod
    def resolve_template(mailing) -> str | None:
        return ref(mailing.template_id)

    @staticmethod
    def resolve_messenger(mailing) -> str | None:
        return ref(mailing.messenger_id)

    @staticmethod
    def resolve_segment(mailing) -> str | None:
        return ref(mailing.segment_id)

    @staticmethod
    def resolve_mailbox(mailing) -> str | None:
        return ref(mailing.mailbox_id)

    @staticmethod
    def resolve_counts(mailing) -> dict:
        return mailing_counts(mailing)

    @staticmethod
    def resolve_tracked(mailing) -> bool:
        return bool(mailing.template_id and mailing.template.tracked)

    @staticmethod
    def resolve_tracking(mailing) -> dict:
        return mailing_tracking(mailing)


class MailingIn(Schema):
    name: str
    template: str
    segment: str
    mailbox: str


class AudienceOut(Schema):
    total: int
    receive: int
    left_out: dict[str, int] = Field(
        description="Why the others won't receive it: no_email, unsubscribed, not_agreed, "
        "bouncing, duplicate."
    )


class RecipientOut(WithId):
    person: str | None
    address: str
    state: str
    reason: str
    message: str | None
    opened_at: datetime | None = Field(description="When its message was first opened")
    clicked_at: datetime | None = Field(description="When a link of it was first clicked")

    @staticmethod
    def resolve_person(recipient) -> str | None:
        return ref(recipient.person_id)

    @staticmethod
    def resolve_message(recipient) -> str | None:
        return ref(recipient.message_id)

    @staticmethod
    def resolve_opened_at(recipient) -> datetime | None:
        return recipient.message.opened_at if recipient.message_id else None

    @staticmethod
    def resolve_clicked_at(recipient) -> datetime | None:
        return recipient.message.clicked_at if recipient.message_id else None


def _require_mailings(request) -> None:
    if not may_send_mailings(request.auth):
        raise Problem(403, "Your role does not allow writing to clients.")


@router.get("/mailings", response=Page[MailingOut], summary="Mailings, newest first")
def mailings_list(request, params: Query[ListParams]):
    _require_mailings(request)
    return paginate(
        mailings_visible_to(request.auth), params, sorts={"created_at"}, default_sort="-created_at"
    )


@router.get(
    "/mailings/{mailing_id}",
    response=MailingOut,
    summary="One mailing: its state and how many recipients are in each state",
)
def mailings_detail(request, mailing_id: RecordId):
    _require_mailings(request)
    return get_object_or_404(mailings_visible_to(request.auth), pk=mailing_id)


@router.post(
    "/mailings",
    response={201: MailingOut},
    summary="Prepare a mailing (a draft: nothing is sent until it is started)",
    openapi_extra=CREATES,
)
def mailings_create(request, response: HttpResponse, payload: MailingIn):
    _require_mailings(request)
    template = one_of(templates_for(request.auth), payload.template, "template")
    segment = one_of(segments_visible_to(request.auth), payload.segment, "segment")
    mailbox = one_of(mailboxes_visible_to(request.auth), payload.mailbox, "mailbox")
    try:
        mailing = mailing_save(
            actor=request.auth,
            name=payload.name,
            template=template,
            segment=segment,
            mailbox=mailbox,
        )
    except ValidationError as error:
        raise invalid(error) from None
    except PermissionDenied as error:
        raise Problem(403, str(error)) from None
    response["Location"] = f"/api/v1/mailings/{mailing.pk}"
    return Status(201, mailing)


@router.get(
    "/mailings/{mailing_id}/audience",
    response=AudienceOut,
    summary="Who of the segment would receive it now, and why the others won't",
)
def mailings_audience(request, mailing_id: RecordId):
    _require_mailings(request)
    mailing = get_object_or_404(mailings_visible_to(request.auth), pk=mailing_id)
    if mailing.segment is None:
        raise Problem(409, "The mailing's segment is gone.")
    try:
        return audience(
            mailing.segment, request.auth, sms=bool(mailing.messenger_id or mailing.text)
        ).as_dict()
    except ValidationError as error:
        raise invalid(error) from None


ACTIONS = {
    "start": mailing_start,
    "pause": mailing_pause,
    "resume": mailing_resume,
    "cancel": mailing_cancel,
}


def _act(request, mailing_id: int, action: str):
    _require_mailings(request)
    mailing = get_object_or_404(mailings_visible_to(request.auth), pk=mailing_id)
    try:
        ACTIONS[action](actor=request.auth, mailing=mailing)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            raise invalid(error) from None
        raise Problem(409, " ".join(error.messages)) from None
    except PermissionDenied as error:
        raise Problem(403, str(error)) from None
    return mailings_visible_to(request.auth).get(pk=mailing_id)


@router.post(
    "/mailings/{mailing_id}/start",
    response=MailingOut,
    summary="Start a draft: a row per recipient, sent by the worker at the mailbox's pace",
)
def mailings_start(request, mailing_id: RecordId):
    return _act(request, mailing_id, "start")


@router.post("/mailings/{mailing_id}/pause", response=MailingOut, summary="Pause a mailing")
def mailings_pause(request, mailing_id: RecordId):
    return _act(request, mailing_id, "pause")


@router.post("/mailings/{mailing_id}/resume", response=MailingOut, summary="Resume a mailing")
def mailings_resume(request, mailing_id: RecordId):
    return _act(request, mailing_id, "resume")


@router.post(
    "/mailings/{mailing_id}/cancel",
    response=MailingOut,
    summary="Cancel a mailing: nobody else gets it",
)
def mailings_cancel(request, mailing_id: RecordId):
    return _act(request, mailing_id, "cancel")


@router.get(
    "/mailings/{mailing_id}/recipients",
    response=Page[RecipientOut],
    summary="A mailing's recipients (filter: state)",
)
def mailings_recipients(
    request,
    mailing_id: RecordId,
    params: Query[ListParams],
    state: Annotated[str | None, Query(description="queued, sent, failed, skipped…")] = None,
):
    _require_mailings(request)
    mailing = get_object_or_404(mailings_visible_to(request.auth), pk=mailing_id)
    found = Recipient.objects.filter(mailing=mailing).select_related("message")
    if state is not None:
        if state not in dict(Recipient.STATES):
            raise Problem(
                400,
                "Unknown filter value.",
                errors=[{"field": "state", "message": "Not a recipient's state."}],
            )
        found = found.filter(state=state)
    return paginate(found, params, sorts={"id"}, default_sort="id")


# --- Unsubscribes -------------------------------------------------------------------------


class UnsubscribeOut(WithId):
    address: str
    person: str | None
    mailing: str | None
    source: str
    at: datetime

    @staticmethod
    def resolve_person(kept) -> str | None:
        return ref(kept.person_id)

    @staticmethod
    def resolve_mailing(kept) -> str | None:
        return ref(kept.mailing_id)


@router.get(
    "/unsubscribes",
    response=Page[UnsubscribeOut],
    summary="Addresses that unsubscribed from offers and news, newest first",
)
def unsubscribes_list(request, params: Query[ListParams]):
    _require_mailings(request)
    return paginate(Unsubscribe.objects.all(), params, sorts={"at"}, default_sort="-at")
