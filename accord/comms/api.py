"""API: mailboxes (never their passwords: those are write-only) and messages to clients
(list per client or deal, send — queued at once, sent by the worker — and retry)."""

import base64
import binascii
from datetime import datetime
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from accord.accounts.queries import users_visible_to
from accord.comms.connections import test_receiving, test_sending
from accord.comms.models import Mailbox, Message
from accord.comms.queries import mailboxes_managed_by, mailboxes_visible_to, messages_visible_to
from accord.comms.services import mailbox_fetch_now, mailbox_save, message_retry, message_send
from accord.contacts.queries import companies_visible_to, people_visible_to
from accord.core.api.concurrency import ANSWERS_ETAG, CREATES, TAKES_IF_MATCH, etag_of, run_if_match
from accord.core.api.pagination import ListParams, Page, paginate
from accord.core.api.problems import Problem, invalid, one_of
from accord.core.api.schemas import RecordId, WithId
from accord.sales.queries import deals_visible_to

router = Router(tags=["e-mail"])
Security = Literal["none", "starttls", "tls"]
Port = Annotated[int, Field(ge=1, le=65535)]


def ref(value_id) -> str | None:
    return str(value_id) if value_id else None


# --- Mailboxes ----------------------------------------------------------------------------


class MailboxOut(WithId):
    name: str
    kind: Literal["shared", "personal"]
    owner: str | None
    from_name: str
    address: str
    is_default: bool
    active: bool
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_username: str
    per_minute: int
    smtp_password_set: bool
    imap_host: str
    imap_port: int
    imap_security: str
    imap_username: str
    imap_password_set: bool
    imap_folder: str
    last_sent_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    receiving: "ReceivingOut | None"
    version: int

    @staticmethod
    def resolve_kind(mailbox) -> str:
        return "shared" if mailbox.owner_id is None else "personal"

    @staticmethod
    def resolve_owner(mailbox) -> str | None:
        return ref(mailbox.owner_id)

    @staticmethod
    def resolve_smtp_password_set(mailbox) -> bool:
        return bool(mailbox.smtp_password_sealed)

    @staticmethod
    def resolve_imap_password_set(mailbox) -> bool:
        return bool(mailbox.imap_password_sealed)

    @staticmethod
    def resolve_receiving(mailbox) -> dict | None:
        if not mailbox.receives:
            return None
        return {
            "fetched_at": mailbox.synced_at,
            "fetched_last": mailbox.sync_fetched_last,
            "fetched_total": mailbox.sync_fetched_total,
            "error": mailbox.sync_error,
            "error_at": mailbox.sync_error_at if mailbox.sync_error else None,
            "failures": mailbox.sync_failures,
            "next_fetch_at": mailbox.sync_due_at,
            "folders": [f for f in (mailbox.imap_folder, mailbox.sent_folder) if f],
            "sent_folder": mailbox.sent_folder or None,
            "problems": [
                {"uid": p.get("uid"), "subject": p.get("subject", ""), "from": p.get("from", ""),
                 "problem": p.get("problem", ""), "message": ref(p.get("message"))}
                for p in mailbox.sync_problems or []
            ],
        }  # fmt: skip


class FetchProblemOut(Schema):
    uid: int | None
    subject: str
    from_: str = Field(..., alias="from")
    problem: str
    message: str | None


class ReceivingOut(Schema):
    """What the worker last saw fetching the mailbox over IMAP."""

    fetched_at: datetime | None
    fetched_last: int
    fetched_total: int
    error: str
    error_at: datetime | None
    failures: int
    next_fetch_at: datetime | None
    folders: list[str] = Field(
        description="The folders fetched: the receiving one, then the sent one."
    )
    sent_folder: str | None = Field(
        description="Where the mail program keeps what it sends (fetched as outgoing mail)."
    )
    problems: list[FetchProblemOut]


MailboxOut.model_rebuild()


class MailboxIn(Schema):
    name: str | None = None
    owner: str | None = None
    from_name: str | None = None
    address: str | None = None
    is_default: bool | None = None
    active: bool | None = None
    smtp_host: str | None = None
    smtp_port: Port | None = None
    smtp_security: Security | None = None
    smtp_username: str | None = None
    per_minute: int | None = None
    smtp_password: str | None = Field(
        None, description='Write-only. Absent or null keeps the stored one; "" forgets it.'
    )
    imap_host: str | None = None
    imap_port: Port | None = None
    imap_security: Security | None = None
    imap_username: str | None = None
    imap_password: str | None = Field(None, description="Write-only, as smtp_password.")
    imap_folder: str | None = None


class MailboxCreate(MailboxIn):
    name: str
    address: str
    smtp_host: str


class TestIn(Schema):
    what: Literal["sending", "receiving"]


class TestOut(Schema):
    ok: bool
    detail: str


def _mailbox_data(request, payload: MailboxIn) -> dict:
    data = payload.dict(exclude_unset=True)
    for name in ("smtp_password", "imap_password"):
        if name in data and data[name] is None:
            del data[name]  # null keeps the stored one, like leaving it out
    if "owner" in data:
        data["owner"] = one_of(users_visible_to(request.auth), data["owner"], "owner")
    return data


def _mailbox_answer(response: HttpResponse, request, mailbox: Mailbox) -> Mailbox:
    mailbox = mailboxes_visible_to(request.auth).get(pk=mailbox.pk)
    response["ETag"] = etag_of(mailbox)
    return mailbox


@router.get("/mailboxes", response=Page[MailboxOut], summary="Mailboxes (no passwords)")
def mailboxes_list(request, params: Query[ListParams]):
    return paginate(mailboxes_visible_to(request.auth), params, sorts={"name", "id"},
                    default_sort="name")  # fmt: skip


@router.get(
    "/mailboxes/{mailbox_id}",
    response=MailboxOut,
    summary="One mailbox",
    openapi_extra=ANSWERS_ETAG,
)
def mailboxes_detail(request, response: HttpResponse, mailbox_id: RecordId):
    mailbox = get_object_or_404(mailboxes_visible_to(request.auth), pk=mailbox_id)
    response["ETag"] = etag_of(mailbox)
    return mailbox


@router.post(
    "/mailboxes", response={201: MailboxOut}, summary="Add a mailbox", openapi_extra=CREATES
)
def mailboxes_create(request, response: HttpResponse, payload: MailboxCreate):
    try:
        mailbox = mailbox_save(actor=request.auth, data=_mailbox_data(request, payload))
    except ValidationError as error:
        raise invalid(error) from None
    response["Location"] = f"/api/v1/mailboxes/{mailbox.pk}"
    return Status(201, _mailbox_answer(response, request, mailbox))


@router.patch(
    "/mailboxes/{mailbox_id}",
    response=MailboxOut,
    summary="Change a mailbox (send If-Match)",
    openapi_extra=TAKES_IF_MATCH,
)
def mailboxes_update(request, response: HttpResponse, mailbox_id: RecordId, payload: MailboxIn):
    data = _mailbox_data(request, payload)
    mailbox = run_if_match(
        request,
        mailboxes_managed_by(request.auth),
        mailbox_id,
        lambda mailbox, version: mailbox_save(
            actor=request.auth, data=data, mailbox=mailbox, version=version
        ),
    )
    return _mailbox_answer(response, request, mailbox)


@router.post(
    "/mailboxes/{mailbox_id}/test",
    response=TestOut,
    summary="Talk to the mailbox's server now: its answer, in words",
)
def mailboxes_test(request, mailbox_id: RecordId, payload: TestIn):
    mailbox = get_object_or_404(mailboxes_managed_by(request.auth), pk=mailbox_id)
    outcome = test_sending(mailbox) if payload.what == "sending" else test_receiving(mailbox)
    return {"ok": outcome.ok, "detail": outcome.text}


@router.post(
    "/mailboxes/{mailbox_id}/fetch",
    response={202: MailboxOut},
    summary="Fetch the mailbox's new mail now (the worker does it; see receiving)",
)
def mailboxes_fetch(request, mailbox_id: RecordId):
    from accord.comms.tasks import fetch_mailbox  # the task module imports the fetcher

    mailbox = get_object_or_404(mailboxes_managed_by(request.auth), pk=mailbox_id)
    if not mailbox.receives:
        raise Problem(
            422,
            "The request has invalid values; nothing was saved.",
            errors=[{"field": "imap_host", "message": "Fill in the IMAP server and user name."}],
        )
    mailbox_fetch_now(mailbox=mailbox)
    fetch_mailbox.enqueue(mailbox.pk)
    return Status(202, mailboxes_visible_to(request.auth).get(pk=mailbox.pk))


# --- Messages -----------------------------------------------------------------------------


class AttachmentOut(WithId):
    name: str
    content_type: str
    size: int


class LinkClickOut(Schema):
    url: str
    clicks: int
    first_at: datetime
    last_at: datetime


class MessageOut(WithId):
    direction: Literal["out", "in"]
    state: Literal[
        "queued", "sending", "sent", "delivered", "read", "failed", "bounced", "received"
    ]
    channel: Literal["email", "sms", "telegram", "whatsapp"] = Field(
        description="E-mail, or the messenger or SMS connection's channel"
    )
    messenger: str | None = Field(description="The messenger or SMS connection (not e-mail)")
    delivered_at: datetime | None = Field(description="A messenger or SMS: reported delivered")
    kind: Literal["client", "own", "auto", "bounce"] = Field(
        description="A received message: a client's (or an unknown sender's) mail, a copy "
        "of our own, an automatic reply, or a delivery report"
    )
    conversation: str | None
    in_reply_to: str
    problems: str = Field(description="What could not be read or kept of a received message")
    message_id: str
    mailbox: str | None
    person: str | None
    company: str | None
    deal: str | None
    author: str | None
    rule: str
    from_name: str
    from_address: str
    to: list[str]
    cc: list[str]
    bcc: list[str]
    subject: str
    html: str
    text: str
    attachments: list[AttachmentOut]
    attempts: int
    next_attempt_at: datetime | None
    error: str
    maybe_sent: bool
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None
    tracked: bool = Field(description="Sent from a template that tracks opens and clicks")
    opened_at: datetime | None = Field(description="Tracked: when it was first opened")
    opens: int
    clicked_at: datetime | None = Field(description="Tracked: when a link was first clicked")
    clicks: int
    links_clicked: list[LinkClickOut] = Field(description="Tracked: each link clicked")

    @staticmethod
    def resolve_mailbox(message) -> str | None:
        return ref(message.mailbox_id)

    @staticmethod
    def resolve_channel(message) -> str:
        return message.messenger.channel if message.messenger_id else "email"

    @staticmethod
    def resolve_messenger(message) -> str | None:
        return ref(message.messenger_id)

    @staticmethod
    def resolve_kind(message) -> str:
        return message.kind or "client"

    @staticmethod
    def resolve_conversation(message) -> str | None:
        return ref(message.conversation_id)

    @staticmethod
    def resolve_person(message) -> str | None:
        return ref(message.person_id)

    @staticmethod
    def resolve_company(message) -> str | None:
        return ref(message.company_id)

    @staticmethod
    def resolve_deal(message) -> str | None:
        return ref(message.deal_id)

    @staticmethod
    def resolve_author(message) -> str | None:
        return ref(message.author_id)

    @staticmethod
    def resolve_rule(message) -> str:
        return message.rule_name

    @staticmethod
    def resolve_attachments(message) -> list:
        return list(message.attachments.all())

    @staticmethod
    def resolve_links_clicked(message) -> list:
        return list(message.link_clicks.all()) if message.tracked else []

    @staticmethod
    def resolve_next_attempt_at(message) -> datetime | None:
        return message.due_at if message.state == Message.QUEUED else None


class AttachmentIn(Schema):
    name: Annotated[str, Field(max_length=255)]
    content_base64: str


class MessageIn(Schema):
    mailbox: str
    to: Annotated[list[str], Field(max_length=50)]
    cc: Annotated[list[str], Field(max_length=50)] = []
    bcc: Annotated[list[str], Field(max_length=50)] = []
    subject: str
    text: str = ""
    html: str = ""
    person: str | None = None
    company: str | None = None
    deal: str | None = None
    attachments: Annotated[list[AttachmentIn], Field(max_length=20)] = []


MESSAGE_FILTERS = {"person", "company", "deal", "mailbox", "state", "direction", "kind",
                   "conversation", "messenger"}  # fmt: skip
CHOICES = {
    "state": dict(Message.STATES),
    "direction": dict(Message.DIRECTIONS),
    "kind": {"client": "", "own": "own", "auto": "auto", "bounce": "bounce"},
}


def _messages() -> dict:
    return {"person": people_visible_to, "company": companies_visible_to, "deal": deals_visible_to}


@router.get(
    "/messages",
    response=Page[MessageOut],
    summary="Messages, sent and received (filters: person, company, deal, conversation, "
    "mailbox, state, direction, kind)",
)
def messages_list(request, params: Query[ListParams]):
    found = messages_visible_to(request.auth).prefetch_related("attachments", "link_clicks")
    errors = []
    for name, value in request.GET.items():
        if name in ("limit", "cursor", "sort"):
            continue
        if name not in MESSAGE_FILTERS:
            errors.append({"field": name, "message": f"There is no filter {name}."})
        elif name in CHOICES and value in CHOICES[name]:
            found = found.filter(**{name: CHOICES["kind"][value] if name == "kind" else value})
        elif (name in ("mailbox", "messenger") and value.isdecimal() and len(value) < 18) or (
            name not in CHOICES and value.isdecimal() and len(value) < 18
        ):
            found = found.filter(**{f"{name}_id": int(value)})
        else:
            errors.append({"field": name, "message": "This value is not allowed here."})
    if errors:
        raise Problem(400, "Unknown filter or bad filter value.", errors=errors)
    return paginate(found, params, sorts={"created_at"}, default_sort="-created_at")


@router.get("/messages/{message_id}", response=MessageOut, summary="One message")
def messages_detail(request, message_id: RecordId):
    return get_object_or_404(messages_visible_to(request.auth), pk=message_id)


@router.post(
    "/messages",
    response={201: MessageOut},
    summary="Write to a client: stored queued at once, sent by the worker",
    openapi_extra=CREATES,
)
def messages_send(request, response: HttpResponse, payload: MessageIn):
    about = {
        name: one_of(query(request.auth), getattr(payload, name), name)
        for name, query in _messages().items()
        if getattr(payload, name) is not None
    }
    mailbox = one_of(mailboxes_visible_to(request.auth), payload.mailbox, "mailbox")
    return queued(request, response, message_send, payload, mailbox=mailbox, **about)


def queued(request, response: HttpResponse, write, payload, **fields) -> Status:
    """A message to a client written by `write` (message_send or message_reply) from the
    payload's recipients, subject, texts and files, once per Idempotency-Key: 201 with
    its Location, else the service's refusal as problem details."""
    key = request.headers.get("Idempotency-Key")
    try:
        message = write(
            actor=request.auth,
            to=payload.to,
            cc=payload.cc,
            bcc=payload.bcc,
            subject=payload.subject,
            text=payload.text,
            html=payload.html,
            attachments=_files(payload.attachments),
            idempotency_key=f"api:{request.auth.pk}:{key}"[:200] if key else None,
            **fields,
        )
    except ValidationError as error:
        raise invalid(error) from None
    except PermissionDenied as error:
        raise Problem(403, str(error)) from None
    response["Location"] = f"/api/v1/messages/{message.pk}"
    return Status(201, messages_visible_to(request.auth).get(pk=message.pk))


def _files(attachments: list[AttachmentIn]) -> list:
    files = []
    for index, attachment in enumerate(attachments):
        try:
            content = base64.b64decode(attachment.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise Problem(
                422,
                "The request has invalid values; nothing was saved.",
                errors=[
                    {
                        "field": f"attachments.{index}.content_base64",
                        "message": "Give the file's content in base64.",
                    }
                ],
            ) from None
        files.append(SimpleUploadedFile(attachment.name, content))
    return files


@router.post(
    "/messages/{message_id}/retry", response=MessageOut, summary="Send a failed message again"
)
def messages_retry(request, message_id: RecordId):
    message = get_object_or_404(messages_visible_to(request.auth), pk=message_id)
    try:
        message_retry(actor=request.auth, message=message)
    except ValidationError as error:
        raise Problem(409, " ".join(error.messages)) from None
    return messages_visible_to(request.auth).prefetch_related("attachments").get(pk=message.pk)
