"""The mailings screens (/mail/mailings/): the list, a new mailing with who will receive it
and why the others won't, and a mailing's page with its progress, its recipients and
start, pause, resume, cancel."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accord.comms import forms, tracking
from accord.comms.messengers import sms_length
from accord.comms.models import EmailTemplate, Mailing, Messenger, Recipient
from accord.comms.queries import mailboxes_to_send_from, mailings_visible_to, messengers_in_use
from accord.comms.services import (
    audience,
    mailing_cancel,
    mailing_counts,
    mailing_pause,
    mailing_resume,
    mailing_save,
    mailing_start,
)
from accord.comms.services.mailings import REASONS, campaign_choices, may_send_mailings
from accord.contacts.queries import segments_visible_to
from accord.core.errors import message_of
from accord.core.ui.forms import apply_errors

ACTIONS = {
    "start": mailing_start,
    "pause": mailing_pause,
    "resume": mailing_resume,
    "cancel": mailing_cancel,
}


def _require(request) -> None:
    if not may_send_mailings(request.user):
        raise Http404


def _form(request, data=None, *, sms: bool = False, **kwargs) -> forms.MailingForm:
    return forms.MailingForm(
        data,
        templates=EmailTemplate.objects.order_by("name", "id"),
        segments=segments_visible_to(request.user, "person").order_by("name", "id"),
        mailboxes=mailboxes_to_send_from(request.user),
        messengers=_sms_connections(),
        sms=sms,
        campaigns=campaign_choices(request.user),
        **kwargs,
    )


def _sms_connections():
    return messengers_in_use().filter(provider__in=(Messenger.SMS_GATEWAY, Messenger.TWILIO_SMS))


@login_required
def mailings(request):
    _require(request)
    found = mailings_visible_to(request.user).select_related("template", "mailbox")
    return render(
        request,
        "comms/mailings.html",
        {"page_title": _("Mailings"), "mailings": found[:200], "email_tab": "mailings"},
    )


@login_required
def mailing_edit(request, pk: int | None = None):
    """A new mailing, or a draft changed; the audience is explained as one chooses."""
    _require(request)
    mailing = get_object_or_404(mailings_visible_to(request.user), pk=pk) if pk else None
    if mailing is not None and mailing.state != Mailing.DRAFT:
        return redirect("mailing_detail", pk=mailing.pk)
    initial = {}
    sms = request.GET.get("kind") == "sms" or request.POST.get("kind") == "sms"
    if mailing is not None:
        sms = bool(mailing.messenger_id or mailing.text)
        initial = {"name": mailing.name, "template": mailing.template_id,
                   "segment": mailing.segment_id, "mailbox": mailing.mailbox_id,
                   "messenger": mailing.messenger_id, "text": mailing.text,
                   "campaign": mailing.campaign_id}  # fmt: skip
    form = _form(request, request.POST or None, initial=initial, sms=sms)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = mailing_save(actor=request.user, mailing=mailing, **form.cleaned_data)
            except PermissionDenied:
                raise Http404 from None
            except ValidationError as error:
                apply_errors(form, error)
            else:
                return redirect("mailing_detail", pk=saved.pk)
        status = 422
    context = {
        "page_title": _("New mailing") if mailing is None else mailing.name,
        "form": form,
        "mailing": mailing,
        "email_tab": "mailings",
        "has_templates": sms or form.fields["template"].queryset.exists(),
        "has_segments": form.fields["segment"].queryset.exists(),
        "has_mailboxes": form.fields["mailbox"].queryset.exists() or sms,
        "sms": sms,
        "sends_sms": _sms_connections().exists(),
    }
    return render(request, "comms/mailing_form.html", context, status=status)


@login_required
def mailing_audience(request):
    """Who of a segment will receive a mailing, and why the others won't (htmx)."""
    _require(request)
    chosen = request.GET.get("segment", "")
    segment = None
    if chosen.isdecimal() and len(chosen) <= 18:
        segment = segments_visible_to(request.user, "person").filter(pk=int(chosen)).first()
    context = {"audience": None}
    if segment is not None:
        try:
            sms = request.GET.get("kind") == "sms"
            context["audience"] = audience(segment, request.user, sms=sms)
        except ValidationError as error:
            context["problem"] = message_of(error)
    return render(request, "comms/mailing_form.html#audience", context)


@login_required
def mailing_detail(request, pk: int):
    _require(request)
    mailing = get_object_or_404(
        mailings_visible_to(request.user).select_related("template", "mailbox", "segment"), pk=pk
    )
    context = _detail_context(request, mailing)
    if request.htmx and request.GET.get("part") == "progress":
        return render(request, "comms/mailing.html#progress", context)
    return render(request, "comms/mailing.html", context)


def _detail_context(request, mailing: Mailing) -> dict:
    state = request.GET.get("state", "")
    recipients = (
        Recipient.objects.filter(mailing=mailing).select_related("person", "message")
        .order_by("pk")
    )  # fmt: skip
    if state in dict(Recipient.STATES):
        recipients = recipients.filter(state=state)
    page = Paginator(recipients, 50).get_page(request.GET.get("page"))
    counts = mailing_counts(mailing)
    preview = None
    if mailing.state == Mailing.DRAFT and mailing.segment is not None:
        try:
            preview = audience(mailing.segment, request.user, sms=bool(mailing.messenger_id))
        except ValidationError:
            preview = None
    done = counts["sent"] + counts["failed"] + counts["bounced"] + counts["unsubscribed"]
    to_send = counts["total"] - counts["skipped"]
    return {
        "page_title": mailing.name,
        "mailing": mailing,
        "sms_length": sms_length(mailing.text) if mailing.text else None,
        "counts": counts,
        "states": [(code, label, counts.get(code, 0)) for code, label in Recipient.STATES],
        "state": state,
        "page": page,
        "reasons": {code: str(words) for code, words in REASONS.items()},
        "left_out": [(str(REASONS.get(code, code)), n)
                     for code, n in (mailing.audience.get("left_out") or {}).items()],
        "preview": preview,
        "tracking": tracking.mailing_tracking(mailing) if mailing.state != Mailing.DRAFT else {},
        "percent": round(100 * done / to_send) if to_send else 0,
        "done": done,
        "to_send": to_send,
        "email_tab": "mailings",
        "active": mailing.state == Mailing.SENDING,
    }  # fmt: skip


@login_required
@require_POST
def mailing_act(request, pk: int, action: str):
    """Start, pause, resume or cancel."""
    _require(request)
    mailing = get_object_or_404(mailings_visible_to(request.user), pk=pk)
    service = ACTIONS.get(action)
    if service is None:
        raise Http404
    try:
        service(actor=request.user, mailing=mailing)
    except PermissionDenied as error:
        messages.error(request, str(error))
    except ValidationError as error:
        messages.error(request, message_of(error))
    else:
        done = {
            "start": _("The mailing has started: it goes out at the mailbox's pace."),
            "pause": _("The mailing is paused."),
            "resume": _("The mailing goes on."),
            "cancel": _("The mailing is cancelled: nobody else gets it."),
        }
        messages.success(request, done[action])
    return redirect("mailing_detail", pk=pk)
