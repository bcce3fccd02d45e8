"""Telephony's screens: Settings → Telephony (a connection, its extensions, the address to
give the PBX, what it refused lately), and that address: /hooks/telephony/<token>/, a
secret of the connection, the provider's signature checked as well. Each delivery is
stored, then applied by the worker; what we refuse is answered 400 or 403 with the
reason and kept on the connection's page for the admin. Zadarma's address check (a GET with
`zd_echo`) is answered with the echo."""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accord.accounts.models import User
from accord.comms import forms
from accord.comms import telephony as adapters
from accord.comms.models import Call, Telephony
from accord.comms.queries import (
    RINGING_FOR,
    calls_ringing_for,
    calls_visible_to,
    dialing_extension,
    hook_connection,
)
from accord.comms.services.calls import (
    call_events_queue,
    call_events_store,
    extensions_set,
    telephony_delete,
    telephony_refused,
    telephony_save,
)
from accord.core import http
from accord.core.pagination import InvalidCursor, capped_counts, keyset_page
from accord.core.phones import PhoneError, display_phone, normalize_phone
from accord.core.secrets import SecretUnreadable, unseal
from accord.core.ui.forms import apply_errors
from accord.core.ui.links import back_to

log = logging.getLogger(__name__)

MAX_BODY = 256 * 1024


@csrf_exempt
@require_http_methods(["GET", "POST"])
def telephony_hook(request, token: str):
    telephony = hook_connection(Telephony, token)
    if telephony is None:
        raise Http404
    if request.method == "GET":
        echo = request.GET.get("zd_echo", "")
        if telephony.provider == Telephony.ZADARMA and echo:
            return HttpResponse(echo[:200], content_type="text/plain")
        return JsonResponse({"ok": True, "connection": telephony.name})
    now = timezone.now()
    try:
        if body_length(request) > MAX_BODY:
            raise adapters.Refused("The body is larger than 256 KiB.", 413)
        secret = unseal(telephony.secret_sealed)
        form = telephony.provider != Telephony.GENERIC  # Zadarma's and Twilio's: form fields
        signals = adapters.read(
            telephony.provider, secret, body=b"" if form else request.body,
            headers=request.headers, form=request.POST if form else {},
            url=settings.ACCORD_BASE_URL + request.get_full_path(),
        )  # fmt: skip
    except SecretUnreadable as error:
        return _refused(telephony, adapters.Refused(str(error), 503), now)
    except adapters.Refused as refused:
        return _refused(telephony, refused, now)
    ids = call_events_store(telephony=telephony, signals=signals, at=now)
    if ids:  # the worker applies them (the PBX waits only for them to be stored)
        call_events_queue(telephony.pk, now)
    if telephony.provider == Telephony.TWILIO:
        # Twilio reads the answer to <Dial>'s action as the call's next TwiML: none, so
        # the call ends as it would have; its status callbacks ignore what they are told.
        return HttpResponse(TWIML_DONE, content_type="text/xml")
    return JsonResponse({"ok": True, "stored": len(ids)})


TWIML_DONE = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _refused(telephony: Telephony, refused: adapters.Refused, now) -> JsonResponse:
    log.warning("telephony %s refused a delivery: %s", telephony.pk, refused.reason)
    telephony_refused(telephony=telephony, reason=refused.reason, at=now)
    return JsonResponse({"ok": False, "error": refused.reason}, status=refused.status)


# --- Settings → Telephony ------------------------------------------------------------


def admin_only(request) -> None:
    if not request.user.sets_up_company:
        raise Http404


@login_required
def telephony_list(request):
    admin_only(request)
    connections = list(Telephony.objects.annotate(extension_count=Count("extensions")))
    # Each connection's calls, counted up to 10,000 ("10,000+"), all in one statement.
    calls = capped_counts({str(t.pk): Call.objects.filter(telephony=t) for t in connections})
    for telephony in connections:
        telephony.call_count = calls[str(telephony.pk)]
    return render(request, "comms/telephony_list.html", {
        "page_title": _("Telephony"), "section": "telephony", "connections": connections,
    })  # fmt: skip


@login_required
def telephony_edit(request, pk: int | None = None):
    admin_only(request)
    telephony = get_object_or_404(Telephony, pk=pk) if pk else None
    initial = forms.telephony_initial(telephony) if telephony else {}
    form = forms.TelephonyForm(
        request.POST or None, initial=initial,
        secret_stored=bool(telephony and telephony.secret_sealed),
        key_stored=bool(telephony and telephony.api_key_sealed),
    )  # fmt: skip
    extensions = _extension_rows(request, telephony)
    problems: list[str] = []
    status = 200
    if request.method == "POST":
        pairs, problems = _read_extensions(extensions)
        if form.is_valid() and not problems:
            try:
                with transaction.atomic():
                    saved = telephony_save(
                        actor=request.user, data=form.data_for_service(), telephony=telephony
                    )
                    extensions_set(actor=request.user, telephony=saved, extensions=pairs)
            except ValidationError as error:
                problems = error.message_dict.pop("extensions", [])
                apply_errors(form, error)
            else:
                messages.success(request, _("The connection is saved."))
                return redirect("telephony_edit", pk=saved.pk)
        status = 422
    return render(request, "comms/telephony.html", {
        "page_title": str(telephony) if telephony else _("New connection"),
        "section": "telephony",
        "telephony": telephony,
        "form": form,
        "extensions": extensions,
        "extension_problems": problems,
        "refusals": [{"at": parse_datetime(p["at"]), "reason": p["reason"]}
                     for p in (telephony.problems if telephony else [])],
        "users": User.objects.filter(is_active=True).order_by("full_name", "email"),
        # Where the PBX reaches Accord from outside, like a client's unsubscribe link.
        "hook_url": settings.ACCORD_BASE_URL + reverse(
            "telephony_hook", args=[telephony.hook_token]
        ) if telephony else "",
        "stale_before": timezone.now() - RINGING_FOR,
        "recent_calls": Call.objects.filter(telephony=telephony)
        .select_related("person", "company", "user")[:RECENT_CALLS] if telephony else [],
    }, status=status)  # fmt: skip


RECENT_CALLS = 10
EMPTY_EXTENSION_ROWS = 3


def _extension_rows(request, telephony: Telephony | None) -> list[dict]:
    """The rows of the extensions table: as typed (a form sent back), else as stored, and
    a few empty ones to add to."""
    if request.method == "POST":
        numbers, users = request.POST.getlist("ext_number"), request.POST.getlist("ext_user")
        rows = [{"number": n.strip(), "user": u} for n, u in zip(numbers, users, strict=False)]
    elif telephony is not None:
        rows = [{"number": e.number, "user": str(e.user_id)} for e in telephony.extensions.all()]
    else:
        rows = []
    filled = [row for row in rows if row["number"] or row["user"]]
    return filled + [{"number": "", "user": ""}] * EMPTY_EXTENSION_ROWS


def _read_extensions(rows: list[dict]) -> tuple[dict[str, User], list[str]]:
    users = User.objects.in_bulk([int(r["user"]) for r in rows if r["user"].isdecimal()])
    pairs, problems = {}, []
    for row in rows:
        number, user = (
            row["number"],
            users.get(int(row["user"])) if row["user"].isdecimal() else None,
        )
        if not number and not row["user"]:
            continue
        if not number:
            problems.append(_("Give %(user)s's extension a number.") % {"user": user or "?"})
        elif user is None:
            problems.append(_("Choose whose extension %(number)s is.") % {"number": number[:30]})
        elif number in pairs:
            problems.append(_("Extension %(number)s is given twice.") % {"number": number[:30]})
        else:
            pairs[number] = user
    return pairs, problems


@login_required
@require_POST
def telephony_remove(request, pk: int):
    admin_only(request)
    telephony = get_object_or_404(Telephony, pk=pk)
    telephony_delete(actor=request.user, telephony=telephony)
    messages.success(request, _("The connection is removed; its calls stay on the timelines."))
    return redirect("telephony_list")


@login_required
def calls_ringing(request):
    """What rings at the user's phone now: the caller's card to open, or "a new client"
    (asked every few seconds by the page while the user has an extension)."""
    put_away = set(request.session.get(DISMISSED, []))
    calls = [c for c in calls_ringing_for(request.user, timezone.now()) if c.pk not in put_away]
    return render(request, "comms/_ringing.html", {"calls": calls})


DISMISSED = "accord_calls_put_away"  # the session's ringing calls the user put away


@login_required
@require_POST
def call_dismiss(request, pk: int):
    """The × on a ringing call's card: it stays away for this session."""
    kept = [n for n in request.session.get(DISMISSED, []) if isinstance(n, int)][-19:]
    request.session[DISMISSED] = [*kept, pk]
    return HttpResponse("")


@login_required
def call_recording(request, pk: int):
    """A call's recording, fetched from the PBX for whoever may see the call: the PBX's
    address never reaches the browser."""
    call = get_object_or_404(calls_visible_to(request.user).exclude(recording=""), pk=pk)
    telephony = call.telephony
    if telephony is None:
        raise Http404
    try:
        where, headers = adapters.recording_request(
            telephony.provider, call.recording, key=unseal(telephony.api_key_sealed),
            secret=unseal(telephony.secret_sealed),
        )  # fmt: skip
        content, kind = http.get_file(where, headers=headers, timeout=20)
    except (adapters.Refused, http.Refused, http.Failed, SecretUnreadable) as error:
        # The reason names the PBX's host (perhaps inside the network): the log has it.
        log.warning("recording of call %s: %s", call.pk, error)
        return HttpResponse(
            _("The PBX did not give the recording."),
            status=502,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(
        content, content_type=kind if kind.startswith("audio/") else "audio/mpeg"
    )
    response["Cache-Control"] = "private, max-age=600"
    response["Content-Disposition"] = f'inline; filename="call-{call.pk}.mp3"'
    return response


@login_required
@require_POST
def call_dial(request):
    """ "Call" beside a client's number: the PBX rings the user's phone, then the number."""
    extension = dialing_extension(request.user)
    if extension is None:
        raise Http404
    back = back_to(request, reverse("today"))
    try:
        number = normalize_phone(request.POST.get("number", "")[:40])
    except PhoneError as error:
        messages.error(request, str(error))
        return redirect(back)
    telephony = extension.telephony
    try:
        adapters.zadarma_callback(
            key=unseal(telephony.api_key_sealed), secret=unseal(telephony.secret_sealed),
            extension=extension.number, number=number,
        )  # fmt: skip
    except (adapters.Refused, http.Refused, http.Failed, SecretUnreadable) as error:
        messages.error(request, _("The call was not placed: %(why)s") % {"why": error})
    else:
        messages.success(request, _("Your phone rings now: pick it up to call %(number)s.")
                         % {"number": display_phone(number)})  # fmt: skip
    return redirect(back)


CALLS_PAGE = 50
CALL_VIEWS = ("missed", "all")


@login_required
def calls_journal(request):
    """Inbox → Calls: the calls the user may see, newest first; "missed" shows those
    nobody has called back yet (the work left), "all" every call."""
    show = request.GET.get("show", "missed")
    if show not in CALL_VIEWS:
        show = "missed"
    calls = calls_visible_to(request.user).select_related("task")
    if show == "missed":
        calls = calls.filter(state=Call.MISSED, returned_at__isnull=True)
    try:
        page = keyset_page(calls, sort="-started_at", cursor=request.GET.get("cursor") or None,
                           limit=CALLS_PAGE)  # fmt: skip
    except InvalidCursor:
        raise Http404 from None
    more_url = ""
    if page.next_cursor:
        more_url = (
            f"{reverse('calls_journal')}?{urlencode({'show': show, 'cursor': page.next_cursor})}"
        )
    context = {"calls": page.items, "more_url": more_url, "show": show}
    if request.htmx and request.GET.get("cursor"):
        return render(request, "comms/calls.html#rows", context)
    return render(request, "comms/calls.html", {
        **context,
        "page_title": _("Calls"),
        "any_telephony": Telephony.objects.exists(),
        "views": [("missed", _("Not called back")), ("all", _("All calls"))],
    })  # fmt: skip


def body_length(request) -> int:
    """The body's declared length (a header that is not a number: over the limit)."""
    text = request.headers.get("Content-Length") or "0"
    return int(text) if text.isdecimal() and len(text) < 12 else MAX_BODY + 1
