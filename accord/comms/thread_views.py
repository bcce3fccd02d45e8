"""Screens of conversations: a client's (or a deal's) e-mail on their page, a conversation
opened in place with its messages, the Inbox and the navigation's unread badge."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accord.accounts.models import User, WorkSchedule
from accord.comms import bodies
from accord.comms.models import Conversation
from accord.comms.queries import (
    BOXES,
    INBOX_COUNT_CAP,
    INBOX_SORT,
    THREADS_SORT,
    client_channels,
    conversations_visible_to,
    has_extension,
    inbox,
    inbox_counts,
    manages_mailboxes,
    messengers_in_use,
    thread_messages,
    threads_of,
    unread_of,
)
from accord.comms.services import (
    conversation_assign,
    conversation_mark_read,
    may_answer,
    may_retry,
    may_send_mailings,
)
from accord.comms.services.chat_sending import window_open
from accord.comms.services.threads import reply_due
from accord.contacts.queries import companies_visible_to, people_visible_to
from accord.core.errors import message_of
from accord.core.pagination import InvalidCursor, keyset_page
from accord.sales.queries import deals_visible_to
from accord.work.services import sees

PAGE = 30
MESSAGES_PAGE = 30
ABOUT = {"person": people_visible_to, "company": companies_visible_to, "deal": deals_visible_to}


def _page(queryset, sort: str, cursor: str | None, limit: int):
    try:
        return keyset_page(queryset, sort=sort, cursor=cursor or None, limit=limit)
    except InvalidCursor:
        raise Http404 from None


@login_required
def client_threads(request):
    """The e-mail card of a person's, a company's or a deal's page (loaded into it), and
    its next page ("Older")."""
    about = {}
    for name, query in ABOUT.items():
        value = request.GET.get(name, "")
        if value:
            if not value.isdecimal() or len(value) > 18:
                raise Http404
            about[name] = get_object_or_404(query(request.user), pk=int(value))
            break
    if not about:
        raise Http404
    page = _page(threads_of(request.user, **about), THREADS_SORT, request.GET.get("cursor"), PAGE)
    [(name, record)] = about.items()
    more_url = None
    if page.next_cursor:
        query = urlencode({name: record.pk, "cursor": page.next_cursor})
        more_url = f"{reverse('client_threads')}?{query}"
    context = {
        "threads": page.items,
        "more_url": more_url,
    }
    if name in ("person", "company") and not request.GET.get("cursor"):
        # How the client talks with us: the channel they prefer, how soon they answer.
        context["client_channels"] = client_channels(**{name: record})
    template = "comms/threads.html#rows" if request.GET.get("cursor") else "comms/threads.html"
    return render(request, template, context)


def _visible_thread(request, pk: int):
    return get_object_or_404(conversations_visible_to(request.user), pk=pk)


def _thread_context(request, conversation, cursor: str | None = None) -> dict:
    newest = thread_messages(conversation).order_by()
    page = _page(newest, "-created_at", cursor, MESSAGES_PAGE)
    shown = list(reversed(page.items))
    for message in shown:
        message.body = bodies.clean(message.html)
        message.may_send_again = may_retry(request.user, message)
    earlier_url = None
    if page.next_cursor:
        query = urlencode({"cursor": page.next_cursor})
        earlier_url = f"{reverse('thread_detail', args=[conversation.pk])}?{query}"
    answer = may_answer(request.user, conversation)
    return {
        **reply_context(conversation),
        "conversation": conversation,
        "thread_messages": shown,
        "earlier_url": earlier_url,
        "may_answer": answer,
        "assignees": _assignees(conversation) if answer else [],
        "client": conversation.client,
    }


def _assignees(conversation) -> list:
    """Who may be given the conversation: active colleagues who may see its client."""
    records = [r for r in (conversation.person, conversation.company, conversation.deal) if r]
    users = (
        User.objects.filter(is_active=True).select_related("role").order_by("full_name", "email")
    )
    return [user for user in users[:200] if all(sees(user, record) for record in records)]


@login_required
def thread_detail(request, pk: int):
    """A conversation opened in place (htmx) or on a page of its own; opening it marks it
    read for the user. `?cursor=`: its earlier messages; `?row=1`: opened from its row,
    which is rendered again (read now, its count) beside it."""
    conversation = _visible_thread(request, pk)
    cursor = request.GET.get("cursor")
    context = _thread_context(request, conversation, cursor)
    if cursor:
        return render(request, "comms/thread.html#messages", context)
    conversation_mark_read(actor=request.user, conversation=conversation)
    if request.htmx:
        # Opened from its row (the Inbox, a client's card): the row says it is read now.
        context["row"] = request.GET.get("row") == "1"
        conversation.unread = 0
        response = render(request, "comms/thread.html#opened", context)
        response["HX-Trigger"] = "accord:inbox-read"
        return response
    context["page_title"] = conversation.title
    return render(request, "comms/thread.html", context)


@login_required
@require_POST
def thread_assign(request, pk: int):
    conversation = _visible_thread(request, pk)
    value = request.POST.get("assignee", "")
    assignee = None
    if value:
        if not value.isdecimal() or len(value) > 18:
            raise Http404
        assignee = get_object_or_404(User.objects.filter(is_active=True), pk=int(value))
    error = ""
    try:
        conversation = conversation_assign(
            actor=request.user, conversation=conversation, assignee=assignee
        )
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as refused:
        error = message_of(refused)
    if request.htmx:
        context = {**_thread_context(request, conversation), "assign_error": error}
        status = 422 if error else 200
        return render(request, "comms/thread.html#assign", context, status=status)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Assigned."))
    return redirect("thread_detail", pk=conversation.pk)


@login_required
@require_POST
def thread_unread(request, pk: int):
    """Mark it unread again (for the user), back in the Inbox."""
    conversation = _visible_thread(request, pk)
    conversation_mark_read(actor=request.user, conversation=conversation, read=False)
    return redirect("inbox")


@login_required
def inbox_view(request):
    """The Inbox: the conversations clients wrote in — waiting for an answer first —
    theirs, nobody's or all the user may see, with their unread counts."""
    box = request.GET.get("box", "mine")
    if box not in BOXES:
        box = "mine"
    channel = request.GET.get("channel", "")
    if channel not in dict(Conversation.CHANNELS):
        channel = ""
    found = inbox(request.user, box, channel)
    page = _page(found, INBOX_SORT, request.GET.get("cursor"), PAGE)
    more_url = None
    if page.next_cursor:
        query = {"box": box, "channel": channel, "cursor": page.next_cursor}
        more_url = f"{reverse('inbox')}?{urlencode(query)}"
    clocked(page.items)
    context = {
        "threads": page.items,
        "more_url": more_url,
        "box": box,
        "channel": channel,
        "in_inbox": True,
        "now": timezone.now(),
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "comms/threads.html#rows", context)
    counts = inbox_counts(request.user, cap=INBOX_COUNT_CAP)
    context.update(
        {
            "page_title": _("Inbox"),
            "counts": counts,
            "boxes": [
                ("mine", _("Mine"), counts["mine"]),
                ("unassigned", _("Unassigned"), counts["unassigned"]),
                ("waiting", _("Waiting for us"), counts["waiting"]),
                ("all", _("All I may see"), counts["all"]),
            ],
            # The channels to filter by, once a messenger or SMS is connected.
            "channels": [("", _("All channels")), *Conversation.CHANNELS]
            if messengers_in_use().exists() or channel
            else [],
            "manages_mailboxes": manages_mailboxes(request.user),
            "sends_mailings": may_send_mailings(request.user),
        }
    )
    return render(request, "comms/inbox.html", context)


@login_required
def inbox_badge(request):
    """The navigation's unread count (asked again every minute and when one is read)."""
    return render(request, "comms/inbox.html#badge", {
        "unread": unread_of(request.user),
        # The user's phone is on the PBX: the page asks which calls ring for them.
        "watch_calls": has_extension(request.user),
    })  # fmt: skip


def reply_context(conversation: Conversation) -> dict:
    """What the reply box of a messenger's or SMS conversation needs."""
    if conversation.channel == Conversation.EMAIL:
        return {}
    messenger = conversation.messenger
    return {
        "chat": True,
        "chat_open": window_open(conversation),
        "chat_templates": messenger.templates if messenger is not None else [],
        "chat_connected": messenger is not None and messenger.active,
        "chat_sms": conversation.channel == Conversation.SMS,
        "reply_key": uuid.uuid4().hex,  # a double click sends one message
    }


def clocked(threads: list) -> None:
    """Give each thread whose client waits its answer's deadline (`reply_due`)."""
    assignees = {t.assignee_id for t in threads if t.assignee_id and t.awaiting_reply}
    schedules = {s.user_id: s for s in WorkSchedule.objects.filter(user_id__in=assignees)}
    for thread in threads:
        if thread.assignee_id:  # read once for the page, not once a row
            thread.assignee._state.fields_cache["work_schedule"] = schedules.get(thread.assignee_id)
        if not thread.awaiting_reply:
            thread.reply_due = None
        else:  # worked out by the worker's pass, else here
            thread.reply_due = thread.reply_due_at or reply_due(thread)
