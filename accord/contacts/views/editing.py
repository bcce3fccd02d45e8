"""The forms that add, change and delete a client (with the duplicate check, the edit conflict)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accord.contacts.queries import companies_visible_to, likely_duplicates
from accord.contacts.services.clients import client_delete
from accord.contacts.services.common import can_change
from accord.contacts.views.kinds import PEOPLE, Kind, kind_for
from accord.core.errors import StaleVersion
from accord.core.phones import PhoneError, normalize_phone
from accord.core.ui.forms import apply_errors, custom_initial
from accord.core.visibility import may_write


def make_form(kind: Kind, request, data=None, initial=None, *, new: bool = False):
    extra = (
        {"companies": companies_visible_to(request.user), "distribute": new}
        if kind is PEOPLE
        else {}
    )
    return kind.form(data, initial=initial, **extra)


def normalised(rows: list[dict], key: str) -> list[str]:
    values = []
    for row in rows:
        if key == "number":
            try:
                values.append(normalize_phone(row["number"]))
            except PhoneError:
                continue
        else:
            values.append(row["address"].strip().lower())
    return values


@login_required
def client_new(request, plural: str):
    kind = kind_for(plural)
    if not may_write(request.user, "clients"):
        raise Http404
    form = make_form(kind, request, request.POST or None, initial={"owner": request.user}, new=True)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        data = form.service_data(request.POST)
        if not request.POST.get("confirm_duplicate"):
            duplicates = likely_duplicates(
                request.user,
                kind.slug,
                normalised(data["phones"], "number"),
                normalised(data["emails"], "address"),
            )
        if not duplicates:
            try:
                record = kind.create(actor=request.user, data=data)
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("%(name)s is added.") % {"name": record})
                return redirect("client_detail", plural=plural, pk=record.pk)
    return render(
        request,
        "contacts/form.html",
        {
            "page_title": kind.new_label,
            "kind": kind,
            "form": form,
            "duplicates": duplicates,
            "phones": rows_for_form(request.POST, "phone"),
            "emails": rows_for_form(request.POST, "email"),
            "short": True,
        },
    )


@login_required
def client_edit(request, plural: str, pk: int):
    kind = kind_for(plural)
    record = get_object_or_404(
        kind.visible(request.user).prefetch_related("contact_points", "tags"), pk=pk
    )
    if not can_change(request.user, record):
        raise Http404
    initial = initial_for(kind, record)
    form = make_form(kind, request, request.POST or None, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            record = kind.update(
                actor=request.user,
                data=form.service_data(request.POST),
                version=form.cleaned_data.get("version"),
                **{kind.slug: record},
            )
        except StaleVersion:
            conflict = kind.visible(request.user).get(pk=pk)
            form.add_error(
                None,
                _(
                    "Someone else saved this client while you were editing. Your "
                    "changes are below and not saved yet: compare, then save again."
                ),
            )
            form.data = form.data.copy()
            form.data["version"] = conflict.version
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("client_detail", plural=plural, pk=record.pk)
    posted = request.method == "POST"
    return render(
        request,
        "contacts/form.html",
        {
            "page_title": _("Edit %(name)s") % {"name": record},
            "kind": kind,
            "form": form,
            "record": record,
            "conflict": conflict,
            "phones": rows_for_form(request.POST, "phone")
            if posted
            else record_rows(record, "phone"),
            "emails": rows_for_form(request.POST, "email")
            if posted
            else record_rows(record, "email"),
        },
    )


@login_required
@require_POST
def client_delete_view(request, plural: str, pk: int):
    kind = kind_for(plural)
    record = get_object_or_404(kind.visible(request.user), pk=pk)
    try:
        client_delete(actor=request.user, record=record)
    except PermissionDenied as error:
        messages.error(request, str(error))
        return redirect("client_detail", plural=plural, pk=pk)
    messages.success(request, _("%(name)s is deleted.") % {"name": record})
    return redirect("client_list", plural=plural)


def initial_for(kind: Kind, record) -> dict:
    initial = {
        name: getattr(record, name)
        for name in kind.form.base_fields
        if hasattr(record, name) and name != "tags"
    }
    initial["tags"] = ", ".join(tag.name for tag in record.tags.all())
    initial.update(custom_initial(record))
    initial["version"] = record.version
    return initial


def record_rows(record, kind: str) -> list[dict]:
    rows = [
        {"value": p.value, "label": p.label} for p in record.contact_points.all() if p.kind == kind
    ]
    return [*rows, {"value": "", "label": ""}]


def rows_for_form(data, kind: str) -> list[dict]:
    values, labels = data.getlist(f"{kind}_value"), data.getlist(f"{kind}_label")
    rows = [
        {"value": v, "label": labels[i] if i < len(labels) else ""}
        for i, v in enumerate(values)
        if v
    ]
    return [*rows, {"value": "", "label": ""}]
