"""API: conversations (threads) — the Inbox's boxes and a client's threads, one thread with
its messages, marking it read, assigning it — and replying to or forwarding a message."""

from datetime import datetime
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from accord.accounts.queries import users_visible_to
from accord.comms.api import AttachmentIn, MessageOut, queued, ref
from accord.comms.models import Conversation
from accord.comms.queries import (
    INBOX_SORT,
    THREADS_SORT,
    conversations_visible_to,
    inbox,
    inbox_counts,
    mailboxes_to_send_from,
    mailboxes_visible_to,
    messages_visible_to,
    thread_messages,
    threads_of,
    unread_of,
    with_unread,
)
from accord.comms.replies import mailbox_for
from accord.comms.services import (
    conversation_assign,
    conversation_mark_read,
    message_reply,
)
from accord.comms.services.chat_sending import chat_send, window_open
from accord.contacts.queries import companies_visible_to, people_visible_to
from accord.core.api.concurrency import CREATES
from accord.core.api.problems import Problem, invalid, one_of
from accord.core.api.schemas import RecordId, WithId
from accord.core.pagination import MAX_LIMIT, InvalidCursor, keyset_page
from accord.sales.queries import deals_visible_to

router = Router(tags=["e-mail"])
THREAD_MESSAGES = 100


class ThreadOut(WithId):
    channel: Literal["email", "sms", "telegram", "whatsapp"]
    messenger: str | None = Field(description="The messenger or SMS connection it runs on")
    address: str = Field(description="A messenger's chat id or the client's number")
    reply_window_open: bool = Field(
        description="Free text may be sent (false: WhatsApp 24 hours after the client's "
        "last message; only a template now)"
    )
    subject: str
    person: str | None
    company: str | None
    deal: str | None
    assignee: str | None
    message_count: int
    awaiting_reply: bool = Field(description="The last message came in: the client waits.")
    unread: int = Field(description="Incoming messages the caller has not read.")
    started_at: datetime
    last_message_at: datetime
    last_incoming_at: datetime | None

    @staticmethod
    def resolve_messenger(thread) -> str | None:
        return ref(thread.messenger_id)

    @staticmethod
    def resolve_reply_window_open(thread) -> bool:
        return window_open(thread)

    @staticmethod
    def resolve_person(thread) -> str | None:
        return ref(thread.person_id)

    @staticmethod
    def resolve_company(thread) -> str | None:
        return ref(thread.company_id)

    @staticmethod
    def resolve_deal(thread) -> str | None:
        return ref(thread.deal_id)

    @staticmethod
    def resolve_assignee(thread) -> str | None:
        return ref(thread.assignee_id)


class ThreadDetail(ThreadOut):
    messages: list[MessageOut] = Field(description="Oldest first: the latest 100.")
    earlier_messages: bool = Field(description="Older ones exist: GET /messages?conversation=")

    @staticmethod
    def resolve_messages(thread) -> list:
        return thread.shown_messages


class ThreadPage(Schema):
    items: list[ThreadOut]
    next_cursor: str | None
    counts: dict[str, int] = Field(
        description="Threads in each box (mine, unassigned, waiting, all), at most 10,000, "
        "and the caller's unread."
    )
    counts_capped: list[str] = Field(
        description="The boxes with more than 10,000 threads: their count says 10,000."
    )


class ThreadParams(Schema):
    box: Literal["mine", "unassigned", "waiting", "all"] | None = None
    channel: Literal["email", "sms", "telegram", "whatsapp"] | None = None
    person: str | None = None
    company: str | None = None
    deal: str | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 50
    cursor: str | None = None


@router.get(
    "/threads",
    response=ThreadPage,
    summary="Threads: the Inbox's (box=mine|unassigned|waiting|all) or a client's "
    "(person, company, deal)",
)
def threads_list(request, params: Query[ThreadParams]):
    about = {name: getattr(params, name) for name in ("person", "company", "deal")
             if getattr(params, name) is not None}  # fmt: skip
    if about and params.box:
        wrong = [{"field": "box", "message": "Leave it out with a client."}]
        raise Problem(400, "Give a box or a client, not both.", errors=wrong)
    if len(about) > 1:
        raise Problem(400, "Give one client.",
                      errors=[{"field": name, "message": "One of person, company, deal."}
                              for name in about])  # fmt: skip
    if about:
        [(name, value)] = about.items()
        queries = {"person": people_visible_to, "company": companies_visible_to,
                   "deal": deals_visible_to}  # fmt: skip
        record = _record(queries[name](request.auth), value, name)
        found, sort = threads_of(request.auth, **{name: record}), THREADS_SORT
        if params.channel:
            found = found.filter(channel=params.channel)
    else:
        found, sort = inbox(request.auth, params.box or "mine", params.channel or ""), INBOX_SORT
    try:
        page = keyset_page(found, sort=sort, cursor=params.cursor, limit=params.limit)
    except InvalidCursor as error:
        raise Problem(
            400, str(error), errors=[{"field": "cursor", "message": str(error)}]
        ) from None
    counts = inbox_counts(request.auth)
    return {
        "items": page.items,
        "next_cursor": page.next_cursor,
        "counts": {**{box: count.value for box, count in counts.items()},
                   "unread": unread_of(request.auth)},
        "counts_capped": [box for box, count in counts.items() if count.more],
    }  # fmt: skip


def _record(queryset, value: str, field: str):
    if not value.isdecimal() or len(value) > 18:
        raise Problem(400, "Unknown filter value.", errors=[{"field": field, "message": "An id."}])
    found = queryset.filter(pk=int(value)).first()
    if found is None:
        raise Problem(404, f"There is no such {field}.")
    return found


def _thread(request, thread_id) -> Conversation:
    return get_object_or_404(with_unread(conversations_visible_to(request.auth)), pk=thread_id)


def _detail(request, thread_id) -> dict:
    thread = _thread(request, thread_id)
    newest = list(thread_messages(thread).order_by("-created_at", "-id")[: THREAD_MESSAGES + 1])
    thread.shown_messages = list(reversed(newest[:THREAD_MESSAGES]))
    thread.earlier_messages = len(newest) > THREAD_MESSAGES
    return thread


@router.get("/threads/{thread_id}", response=ThreadDetail, summary="One thread with its messages")
def threads_detail(request, thread_id: RecordId):
    return _detail(request, thread_id)


class ReadIn(Schema):
    read: bool = True


@router.post(
    "/threads/{thread_id}/read",
    response=ThreadOut,
    summary="Mark a thread read for the caller (read=false: unread again)",
)
def threads_read(request, thread_id: RecordId, payload: ReadIn | None = None):
    thread = _thread(request, thread_id)
    conversation_mark_read(
        actor=request.auth, conversation=thread, read=payload.read if payload else True
    )
    return _thread(request, thread_id)


class AssignIn(Schema):
    assignee: str | None = Field(description="A user's id; null: nobody.")


@router.post(
    "/threads/{thread_id}/assign",
    response=ThreadOut,
    summary="Give a thread to a colleague who may see its client",
)
def threads_assign(request, thread_id: RecordId, payload: AssignIn):
    thread = _thread(request, thread_id)
    assignee = None
    if payload.assignee is not None:
        assignee = one_of(users_visible_to(request.auth), payload.assignee, "assignee")
    try:
        conversation_assign(actor=request.auth, conversation=thread, assignee=assignee)
    except PermissionDenied as error:
        raise Problem(403, str(error)) from None
    except ValidationError as error:
        raise invalid(error) from None
    return _thread(request, thread_id)


class ReplyIn(Schema):
    kind: Literal["reply", "reply_all", "forward"] = "reply"
    text: str = ""
    html: str = ""
    mailbox: str | None = Field(None, description="Default: the mailbox the client wrote to.")
    to: Annotated[list[str], Field(max_length=50)] | None = Field(
        None, description="Default: who wrote (reply), and everyone else but us in cc (reply_all)."
    )
    cc: Annotated[list[str], Field(max_length=50)] | None = None
    bcc: Annotated[list[str], Field(max_length=50)] = []
    subject: str | None = Field(None, description='Default: "Re: …" / "Fwd: …".')
    quote: bool = Field(True, description="Add the original below the text.")
    keep_attachments: bool = Field(True, description="A forward sends the original's files.")
    attachments: Annotated[list[AttachmentIn], Field(max_length=20)] = []


@router.post(
    "/messages/{message_id}/reply",
    response={201: MessageOut},
    summary="Reply, reply to all or forward: the answer joins the message's thread",
    openapi_extra=CREATES,
)
def messages_reply(request, response: HttpResponse, message_id: RecordId, payload: ReplyIn):
    original = get_object_or_404(messages_visible_to(request.auth), pk=message_id)
    mailboxes = mailboxes_visible_to(request.auth)
    if payload.mailbox is not None:
        mailbox = one_of(mailboxes, payload.mailbox, "mailbox")
    else:
        mailbox = mailbox_for(original, mailboxes_to_send_from(request.auth))
    return queued(
        request, response, message_reply, payload, original=original, kind=payload.kind,
        mailbox=mailbox, quote=payload.quote, keep_attachments=payload.keep_attachments,
    )  # fmt: skip


class ChatIn(Schema):
    text: Annotated[str, Field(max_length=4096)] = ""
    template: Annotated[str, Field(max_length=512)] = Field(
        "", description="WhatsApp: an approved template's name, for outside the 24-hour window"
    )


@router.post(
    "/threads/{thread_id}/messages",
    response={201: MessageOut},
    summary="Write in a messenger's or an SMS thread: queued at once, sent by the worker",
    openapi_extra=CREATES,
)
def threads_write(request, response: HttpResponse, thread_id: RecordId, payload: ChatIn):
    thread = _thread(request, thread_id)
    if thread.channel == Conversation.EMAIL:
        wrong = [{"field": "thread", "message": "Reply to one of its messages instead."}]
        raise Problem(422, "An e-mail thread is answered by POST /messages/{id}/reply.",
                      errors=wrong)  # fmt: skip
    key = request.headers.get("Idempotency-Key")
    try:
        message = chat_send(
            actor=request.auth, conversation=thread, text=payload.text,
            template=payload.template,
            idempotency_key=f"api:{request.auth.pk}:{key}"[:200] if key else None,
        )  # fmt: skip
    except ValidationError as error:
        raise invalid(error) from None
    except PermissionDenied as error:
        raise Problem(403, str(error)) from None
    response["Location"] = f"/api/v1/messages/{message.pk}"
    return Status(201, messages_visible_to(request.auth).get(pk=message.pk))
