"""Messengers' and SMS screens: Settings → Messengers and SMS (a connection, the address to
give the provider, what it refused lately), that address — /hooks/chat/<token>/, a secret
of the connection, the provider's signature or secret token checked as well — and a
message written in a conversation from the Inbox. Each delivery is stored first and
answered at once; the worker turns it into messages. What we refuse is answered 400 or
403 with the reason and kept on the connection's page."""

import logging
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accord.comms import forms
from accord.comms import messengers as adapters
from accord.comms.models import Conversation, Message, Messenger
from accord.comms.queries import (
    conversations_visible_to,
    hook_connection,
    last_messenger_of,
    messengers_in_use,
)
from accord.comms.services.chat_sending import chat_addresses, chat_send, chat_start
from accord.comms.services.chats import chat_events_queue, chat_events_store
from accord.comms.services.messengers import (
    hook_url,
    messenger_delete,
    messenger_problem,
    messenger_save,
    messenger_set_webhook,
)
from accord.comms.telephony import Refused
from accord.comms.telephony_views import MAX_BODY, admin_only, body_length
from accord.comms.views import about_of, record_url
from accord.core.company import REPLY_MINUTES, reply_minutes
from accord.core.secrets import SecretUnreadable, unseal
from accord.core.services import company_profile_update
from accord.core.ui.forms import apply_errors
from accord.work.services import sees

log = logging.getLogger(__name__)

RECENT_MESSAGES = 10


@csrf_exempt
@require_http_methods(["GET", "POST"])
def messenger_hook(request, token: str):
    messenger = hook_connection(Messenger, token)
    if messenger is None:
        raise Http404
    if request.method == "GET":
        return _handshake(request, messenger)
    now = timezone.now()
    try:
        if body_length(request) > MAX_BODY:
            raise Refused(_("The body is larger than 256 KiB."), 413)
        form = messenger.provider == Messenger.TWILIO_SMS
        secret_field = "token_sealed" if form else "secret_sealed"
        stored = getattr(messenger, secret_field)
        signals = adapters.read(
            messenger,
            body=b"" if form else request.body,
            headers=request.headers,
            form=request.POST if form else {},
            url=hook_url(messenger),
            secret=unseal(stored) if stored else "",
        )
    except SecretUnreadable as error:
        return _refused(messenger, Refused(str(error), 503), now)
    except Refused as refused:
        return _refused(messenger, refused, now)
    ids = chat_events_store(messenger=messenger, signals=signals, at=now)
    if ids:  # stored and committed: the worker's pass over them (one for a burst)
        chat_events_queue(messenger.pk, now)
    if messenger.provider == Messenger.TWILIO_SMS:  # Twilio reads TwiML: an empty answer
        return HttpResponse("<Response/>", content_type="text/xml")
    return JsonResponse({"ok": True, "stored": len(ids)})


def _handshake(request, messenger: Messenger):
    """WhatsApp's subscription check: our verify token back gets its challenge echoed."""
    if messenger.provider == Messenger.WHATSAPP and request.GET.get("hub.mode") == "subscribe":
        if request.GET.get("hub.verify_token") != messenger.webhook_secret:
            return _refused(messenger, Refused(_("The verify token does not match."), 403),
                            timezone.now())  # fmt: skip
        return HttpResponse(request.GET.get("hub.challenge", "")[:200], content_type="text/plain")
    return JsonResponse({"ok": True, "connection": messenger.name})


def _refused(messenger: Messenger, refused: Refused, now) -> JsonResponse:
    log.warning("messenger %s refused a delivery: %s", messenger.pk, refused.reason)
    messenger_problem(messenger=messenger, reason=refused.reason, at=now)
    return JsonResponse({"ok": False, "error": refused.reason}, status=refused.status)


# --- Settings → Messengers and SMS -----------------------------------------------------------


def _key(request) -> str | None:
    """The form's one-time key, as the user's own (never another writer's key)."""
    key = request.POST.get("key", "")[:100]
    return f"web:{request.user.pk}:{key}" if key else None


@login_required
def messengers_list(request):
    """The connections, and how soon each channel's clients must be answered."""
    admin_only(request)
    connections = Messenger.objects.annotate(conversation_count=Count("contacts"))
    targets = {channel: reply_minutes(channel) for channel in REPLY_MINUTES}
    error, status = "", 200
    if request.method == "POST":
        sent = {channel: request.POST.get(f"reply_{channel}", "").strip() for channel in targets}
        try:
            if not all(value.isdecimal() and len(value) < 6 for value in sent.values()):
                raise ValidationError(_("Give each channel's minutes, from 1 to a week."))
            company_profile_update(
                actor=request.user, reply_minutes={c: int(v) for c, v in sent.items()}
            )
        except ValidationError as problem:
            error, status = " ".join(problem.messages), 422
            targets = sent
        else:
            messages.success(request, _("The answer times are saved."))
            return redirect("messengers")
    return render(request, "comms/messengers.html", {
        "page_title": _("Messengers and SMS"), "section": "messengers",
        "connections": connections,
        "targets": [(channel, label, targets[channel])
                    for channel, label in Conversation.CHANNELS],
        "targets_error": error,
    }, status=status)  # fmt: skip


@login_required
def messenger_edit(request, pk: int | None = None):
    admin_only(request)
    messenger = get_object_or_404(Messenger, pk=pk) if pk else None
    initial = forms.messenger_initial(messenger) if messenger else {}
    form = forms.MessengerForm(request.POST or None, initial=initial, messenger=messenger)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = messenger_save(
                    actor=request.user, data=form.data_for_service(), messenger=messenger
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                _set_webhook(request, saved)
                messages.success(request, _("The connection is saved."))
                return redirect("messenger_edit", pk=saved.pk)
        status = 422
    return render(request, "comms/messenger.html", {
        "page_title": str(messenger) if messenger else _("New connection"),
        "section": "messengers",
        "messenger": messenger,
        "form": form,
        "hook_url": hook_url(messenger) if messenger else "",
        "refusals": [{"at": parse_datetime(p["at"]), "reason": p["reason"]}
                     for p in (messenger.problems if messenger else [])],
        "recent": Message.objects.filter(messenger=messenger)
        .select_related("person", "company").order_by("-created_at", "-pk")[:RECENT_MESSAGES]
        if messenger else [],
    }, status=status)  # fmt: skip


def _set_webhook(request, messenger: Messenger) -> None:
    """A Telegram bot's webhook is set as it is saved (again after a new token)."""
    if messenger.provider != Messenger.TELEGRAM or messenger.webhook_set_at is not None:
        return
    try:
        messenger_set_webhook(actor=request.user, messenger=messenger, url=hook_url(messenger))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))


@login_required
@require_POST
def messenger_webhook(request, pk: int):
    """ "Connect the bot again": sets Telegram's webhook once more."""
    admin_only(request)
    messenger = get_object_or_404(Messenger, pk=pk, provider=Messenger.TELEGRAM)
    try:
        messenger_set_webhook(actor=request.user, messenger=messenger, url=hook_url(messenger))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Telegram now sends the bot's messages to Accord."))
    return redirect("messenger_edit", pk=messenger.pk)


@login_required
@require_POST
def messenger_remove(request, pk: int):
    admin_only(request)
    messenger = get_object_or_404(Messenger, pk=pk)
    messenger_delete(actor=request.user, messenger=messenger)
    messages.success(request, _("The connection is removed; its conversations stay."))
    return redirect("messengers")


# --- Writing in a conversation ---------------------------------------------------------------


@login_required
@require_POST
def chat_reply(request, pk: int):
    """A message in a messenger's or an SMS conversation (the Inbox's reply box): queued,
    then the conversation is shown again with it."""
    conversation = get_object_or_404(
        conversations_visible_to(request.user, read_marks=False).exclude(
            channel=Conversation.EMAIL
        ),
        pk=pk,
    )
    form = forms.ChatReplyForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            chat_send(
                actor=request.user,
                conversation=conversation,
                text=form.cleaned_data["text"],
                template=form.cleaned_data["template"],
                idempotency_key=_key(request),
            )
        except ValidationError as problem:
            error = " ".join(problem.messages)
        except PermissionDenied as problem:
            error = str(problem)
    else:
        error = " ".join(e for errors in form.errors.values() for e in errors)
    if error:
        if request.htmx:
            return render(request, "comms/thread.html#chat_error", {"chat_error": error},
                          status=422)  # fmt: skip
        messages.error(request, error)
    elif request.htmx:
        response = HttpResponse(status=204)
        response["HX-Trigger"] = "accord:mail-queued"
        return response
    return redirect("thread_detail", pk=conversation.pk)


# --- Writing to a client from their card -------------------------------------------------------


@login_required
def chat_compose(request):
    """ "Write a message" on a client's card or a deal: the connection, the number or chat,
    the text (or a WhatsApp template); sent, it opens the conversation."""
    about = about_of(request)
    deal = about.get("deal")
    client = about.get("person") or about.get("company") or (deal.person or deal.company)
    if client is not None and not sees(request.user, client):
        raise Http404  # the deal's client is not theirs to see: nor their numbers
    connections = list(messengers_in_use())
    if client is None or not connections:
        raise Http404
    choices = [(m, chat_addresses(m, client)) for m in connections]
    choices = [(m, found) for m, found in choices if found]
    latest = last_messenger_of(client)  # where the client was last in touch comes first
    choices.sort(key=lambda choice: choice[0].pk != latest)
    source = request.POST if request.method == "POST" else request.GET
    chosen = next((m for m, _found in choices if str(m.pk) == source.get("messenger")),
                  choices[0][0] if choices else None)  # fmt: skip
    error, status = "", 200
    if request.method == "POST" and chosen is not None:
        try:
            message = chat_start(
                actor=request.user, messenger=chosen,
                address=request.POST.get("address", ""),
                text=request.POST.get("text", "")[:5000],
                template=request.POST.get("template", ""),
                idempotency_key=_key(request), **about,
            )  # fmt: skip
        except ValidationError as problem:
            error, status = " ".join(problem.messages), 422
        except PermissionDenied as problem:
            error, status = str(problem), 403
        else:
            if request.htmx:  # the panel closes; the card's timeline shows the message
                response = HttpResponse(status=204)
                response["HX-Trigger"] = "accord:mail-queued"
                return response
            messages.success(request, _("The message is queued; it goes out in a moment."))
            return redirect("thread_detail", pk=message.conversation_id)
    template = "comms/chat_compose.html#panel" if request.htmx else "comms/chat_compose.html"
    return render(request, template, {
        "page_title": _("Write a message"),
        "about": about,
        "client": client,
        "back_url": record_url(about),
        "choices": choices,
        "chosen": chosen,
        "addresses": dict(choices).get(chosen, []),
        "error": error,
        "sent": request.POST if request.method == "POST" else {},
        "reply_key": uuid.uuid4().hex,
    }, status=status)  # fmt: skip
