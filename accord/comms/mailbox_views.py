"""Settings → E-mail (administrators: every mailbox, shared and personal) and a user's own
mailboxes from their profile: the list, the form, the state, and the connection tests."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accord.comms import connections, forms
from accord.comms.models import Mailbox, Message
from accord.comms.queries import mailboxes_managed_by, manages_mailboxes, unmatched_messages
from accord.comms.services import mailbox_delete, mailbox_fetch_now, mailbox_save
from accord.core.errors import StaleVersion
from accord.core.ui.forms import apply_errors


def _frame(request) -> dict:
    """Administrators see these screens as a tab of Settings; others from their profile."""
    admin = manages_mailboxes(request.user)
    return {
        "base_template": "accounts/settings_base.html" if admin else "web/base.html",
        "section": "email",
        "admin": admin,
        "list_url": "mailboxes" if admin else "my_mailboxes",
        "new_url": "mailbox_new" if admin else "my_mailbox_new",
        "edit_url": "mailbox_edit" if admin else "my_mailbox_edit",
    }


@login_required
def mailboxes(request):
    """Settings → E-mail: every mailbox (administrators only)."""
    if not manages_mailboxes(request.user):
        raise Http404
    return _list(request)


@login_required
def my_mailboxes(request):
    """My profile → my mailboxes: a user's own (an administrator goes to Settings)."""
    if manages_mailboxes(request.user):
        return redirect("mailboxes")
    return _list(request)


def _list(request):
    found = mailboxes_managed_by(request.user).annotate(
        queued=Count("messages", filter=Q(messages__state__in=[Message.QUEUED, Message.SENDING])),
        failed=Count("messages", filter=Q(messages__state=Message.FAILED)),
    )
    return render(
        request,
        "comms/mailboxes.html",
        {"page_title": _("E-mail"), "mailboxes": found.order_by("owner", "name", "id"),
         **_frame(request)},
    )  # fmt: skip


@login_required
def mailbox_edit(request, pk: int | None = None):
    mailbox = get_object_or_404(mailboxes_managed_by(request.user), pk=pk) if pk else None
    frame = _frame(request)
    initial = forms.mailbox_initial(mailbox) if mailbox else {}
    if mailbox:
        initial["version"] = mailbox.version
    form = forms.MailboxForm(request.POST or None, initial=initial, admin=frame["admin"])
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = mailbox_save(
                    actor=request.user,
                    data=form.data_for_service(),
                    mailbox=mailbox,
                    version=form.cleaned_data.get("version") if mailbox else None,
                )
            except StaleVersion:
                form.add_error(None, _("Someone else saved this mailbox meanwhile. "
                                       "Open it again to see their change."))  # fmt: skip
            except ValidationError as error:
                apply_errors(form, error)
            except PermissionDenied:
                raise Http404 from None
            else:
                messages.success(request, _("The mailbox is saved."))
                return redirect(frame["edit_url"], pk=saved.pk)
        status = 422
    context = {
        "page_title": str(mailbox) if mailbox else _("New mailbox"),
        "mailbox": mailbox,
        "form": form,
        "counts": _counts(mailbox) if mailbox else {},
        "unmatched": list(unmatched_messages(mailbox)[:UNMATCHED_SHOWN]) if mailbox else [],
        **frame,
    }
    return render(request, "comms/mailbox.html", context, status=status)


UNMATCHED_SHOWN = 20


def _counts(mailbox: Mailbox) -> dict:
    states = dict(
        Message.objects.filter(mailbox=mailbox).values_list("state").annotate(n=Count("pk"))
    )
    return {
        "queued": states.get(Message.QUEUED, 0) + states.get(Message.SENDING, 0),
        "sent": states.get(Message.SENT, 0),
        "failed": states.get(Message.FAILED, 0),
    }


@login_required
@require_POST
def mailbox_test(request, pk: int, what: str):
    """Talk to the server now and show what it said (an htmx partial, or back to the page)."""
    mailbox = get_object_or_404(mailboxes_managed_by(request.user), pk=pk)
    if what == "sending":
        outcome = connections.test_sending(mailbox)
    elif what == "receiving":
        outcome = connections.test_receiving(mailbox)
    else:
        raise Http404
    if request.htmx:
        return render(
            request,
            "comms/mailbox.html#test",
            {"outcome": outcome, "what": what, "mailbox": mailbox},
        )
    (messages.success if outcome.ok else messages.error)(request, outcome.text)
    return redirect(_frame(request)["edit_url"], pk=mailbox.pk)


@login_required
@require_POST
def mailbox_fetch(request, pk: int):
    """ "Fetch now": the worker fetches the mailbox's new mail at once (the click does
    not wait on the server)."""
    from accord.comms.tasks import fetch_mailbox  # the task module imports the fetcher

    mailbox = get_object_or_404(mailboxes_managed_by(request.user), pk=pk)
    if not mailbox.receives:
        messages.error(request, _("Fill in the IMAP server and user name first."))
    else:
        mailbox_fetch_now(mailbox=mailbox)
        fetch_mailbox.enqueue(mailbox.pk)
        messages.success(request, _("Fetching new mail now; this page shows the result."))
    return redirect(_frame(request)["edit_url"], pk=mailbox.pk)


@login_required
@require_POST
def mailbox_remove(request, pk: int):
    mailbox = get_object_or_404(mailboxes_managed_by(request.user), pk=pk)
    mailbox_delete(actor=request.user, mailbox=mailbox)
    messages.success(request, _("The mailbox is removed; what was sent from it stays."))
    return redirect(_frame(request)["list_url"])
