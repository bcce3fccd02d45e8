"""Screens of writing to a client: the compose form (a side panel on a wide screen, a page
on a phone), a message opened in place on a timeline, its state, a retry, its files."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accord.comms import bodies, forms, merge, replies
from accord.comms.attachments import offered_files
from accord.comms.models import Attachment, EmailTemplate, Message
from accord.comms.queries import (
    client_addresses,
    mailboxes_to_send_from,
    manages_mailboxes,
    messages_visible_to,
)
from accord.comms.services import (
    may_retry,
    may_write_to,
    message_reply,
    message_retry,
    message_send,
    template_render,
)
from accord.comms.services.templates import language_for
from accord.contacts.queries import companies_visible_to, people_visible_to
from accord.core.errors import message_of
from accord.core.ui.forms import apply_errors
from accord.sales.queries import deals_visible_to

QUEUED_EVENT = "accord:mail-queued"


def about_of(request) -> dict:
    """The person, company or deal the message is about, from ?person= / ?company= /
    ?deal= (or the form's own fields): records the user may see, else 404."""
    source = request.POST if request.method == "POST" else request.GET
    visible = {"person": people_visible_to, "company": companies_visible_to,
               "deal": deals_visible_to}  # fmt: skip
    found = {}
    for name, query in visible.items():
        value = source.get(name, "")
        if value:
            if not value.isdecimal() or len(value) > 18:
                raise Http404
            found[name] = get_object_or_404(query(request.user), pk=int(value))
    if not found:
        raise Http404
    return found


def record_url(about: dict) -> str:
    """The card of what a message is about: where sending or Cancel goes back to."""
    if "deal" in about:
        return reverse("deal_detail", args=[about["deal"].pk])
    if "person" in about:
        return reverse("client_detail", args=["people", about["person"].pk])
    return reverse("client_detail", args=["companies", about["company"].pk])


def _from_template(request, about: dict) -> dict:
    """?template=: the subject and text of a template, filled in for this client in their
    language ("Start from a template")."""
    chosen = request.GET.get("template", "") if request.method == "GET" else ""
    if not chosen.isdecimal() or len(chosen) > 18:
        return {}
    template = EmailTemplate.objects.filter(pk=int(chosen)).first()
    if template is None:
        return {}
    person = about.get("person") or (about["deal"].person if "deal" in about else None)
    values = merge.values_for(
        person=about.get("person"), company_record=about.get("company"),
        deal=about.get("deal"), user=request.user,
    )  # fmt: skip
    rendered = template_render(template=template, values=values, language=language_for(person))
    return {"template": template.pk, "subject": rendered.subject, "text": rendered.text}


def _tracks(chosen) -> bool:
    """Whether the template chosen to start from tracks opens and clicks."""
    chosen = str(chosen or "")
    return (
        chosen.isdecimal()
        and len(chosen) <= 18
        and EmailTemplate.objects.filter(pk=int(chosen), tracked=True).exists()
    )


def _initial_to(about: dict) -> str:
    record = about.get("person") or about.get("company")
    if record is None and "deal" in about:
        record = about["deal"].person or about["deal"].company
    return getattr(record, "primary_email", "") or ""


def _replying(request) -> tuple[Message | None, str]:
    """The message answered (?reply=<id>&kind=reply|reply_all|forward), one the user may
    see, and the kind; (None, "") for a new message."""
    source = request.POST if request.method == "POST" else request.GET
    value = source.get("reply", "")
    if not value:
        return None, ""
    if not value.isdecimal() or len(value) > 18:
        raise Http404
    original = get_object_or_404(messages_visible_to(request.user), pk=int(value))
    kind = source.get("kind", "reply")
    return original, kind if kind in replies.KINDS else "reply"


def _about_original(original: Message) -> dict:
    thread = original.conversation or original
    return {name: getattr(thread, name) for name in ("person", "company", "deal")
            if getattr(thread, name) is not None}  # fmt: skip


@login_required
def mail_compose(request):
    """Write to a client — or reply, reply to all, forward (?reply=&kind=): GET the form,
    POST queues the message and returns at once."""
    original, kind = _replying(request)
    about = _about_original(original) if original is not None else about_of(request)
    if not about or not may_write_to(request.user, list(about.values())):
        raise Http404
    mailboxes = mailboxes_to_send_from(request.user)
    data = request.POST if request.method == "POST" else None
    initial = {"to": _initial_to(about), **_from_template(request, about)}
    if original is not None:
        initial = replies.prefill(original, kind)
        initial["mailbox"] = replies.mailbox_for(original, mailboxes)
    carried = original.attachments.all() if kind == "forward" else ()
    offered = offered_files(request.user, request.POST if data else request.GET)
    files = [item for references in offered.values() for _ref, item in references]
    if files and not initial.get("subject"):
        initial["subject"] = files[0].subject
    form = forms.ComposeForm(
        data, request.FILES or None, mailboxes=mailboxes, initial=initial, carried=carried
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                message = _send(request, form, about, original, kind, files)
            except ValidationError as error:
                apply_errors(form, error)
            else:
                text = _("“%(subject)s” is queued: it goes out in a moment.") % {
                    "subject": message.subject
                }
                if request.htmx:
                    response = HttpResponse(status=204)
                    response["HX-Trigger"] = json.dumps({QUEUED_EVENT: {"message": text}})
                    return response
                messages.success(request, text)
                if original is not None and message.conversation_id:
                    return redirect("thread_detail", pk=message.conversation_id)
                return redirect(record_url(about))
        status = 422
    titles = {"reply": _("Reply"), "reply_all": _("Reply to all"), "forward": _("Forward")}
    context = {
        "page_title": titles.get(kind, _("Write an e-mail")),
        "form": form,
        "about": about,
        "about_name": str(about.get("deal") or about.get("person") or about.get("company")),
        "addresses": client_addresses(**about),
        "has_mailboxes": mailboxes.exists(),
        "manages_mailboxes": manages_mailboxes(request.user),
        "back_url": record_url(about),
        "attachment_limit": settings.ACCORD_EMAIL_ATTACHMENTS_MB,
        "original": original,
        "kind": kind,
        "tracked": original is None and _tracks(form["template"].value()),
        "title": titles.get(kind),
        "offered": offered,
    }
    template = "comms/compose.html#panel" if request.htmx else "comms/compose.html"
    return render(request, template, context, status=status)


def _send(request, form, about: dict, original: Message | None, kind: str, files=()) -> Message:
    data = form.cleaned_data
    common = {
        "actor": request.user,
        "mailbox": data["mailbox"],
        "to": data["to"],
        "cc": data["cc"],
        "bcc": data["bcc"],
        "subject": data["subject"],
        "text": data["text"],
        "attachments": [*data["attachments"], *(file.upload() for file in files)],
        "idempotency_key": f"web:{request.user.pk}:{data['key']}",
    }
    if original is None:
        template = data["template"]
        return message_send(
            **common,
            marketing=bool(template and template.marketing),
            tracked=bool(template and template.tracked),
            **about,
        )
    return message_reply(
        **common, original=original, kind=kind, keep_attachments=data["keep_attachments"]
    )


def _visible_message(request, pk: int) -> Message:
    return get_object_or_404(messages_visible_to(request.user), pk=pk)


def _message_context(request, message: Message) -> dict:
    return {
        "message": message,
        "body": bodies.clean(message.html),
        "attachments": list(message.attachments.all()),
        "link_clicks": list(message.link_clicks.all()) if message.tracked else [],
        "can_retry": may_retry(request.user, message),
        "may_answer": may_write_to(request.user, [message.person, message.company, message.deal]),
    }


@login_required
def message_detail(request, pk: int):
    """The message opened in place on a timeline (htmx), or on a page of its own."""
    message = _visible_message(request, pk)
    context = _message_context(request, message)
    if request.htmx:
        return render(request, "comms/message.html#opened", context)
    context["page_title"] = message.subject
    return render(request, "comms/message.html", context)


@login_required
def message_state(request, pk: int):
    """The state badge; while queued or sending it asks again every few seconds."""
    message = _visible_message(request, pk)
    return render(request, "comms/_state.html", {"message": message})


@login_required
@require_POST
def message_retry_view(request, pk: int):
    message = _visible_message(request, pk)
    try:
        message = message_retry(actor=request.user, message=message)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, message_of(error))
    if request.htmx:  # the entry's state on the timeline changes with it
        context = {**_message_context(request, message), "retried": True}
        return render(request, "comms/message.html#opened", context)
    return redirect("message_detail", pk=message.pk)


@login_required
def attachment_download(request, pk: int):
    """A message's file, to those who may see the message."""
    attachment = get_object_or_404(
        Attachment.objects.filter(message__in=messages_visible_to(request.user)), pk=pk
    )
    try:
        stream = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(
        stream, as_attachment=True, filename=attachment.name, content_type=attachment.content_type
    )
