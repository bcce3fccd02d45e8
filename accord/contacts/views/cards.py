"""A client's card: its details, its timeline and the note form."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accord.contacts import forms
from accord.contacts.models import LeadScore
from accord.contacts.queries import people_visible_to
from accord.contacts.services.clients import note_add
from accord.contacts.services.common import can_change
from accord.contacts.views.kinds import COMPANIES, kind_for
from accord.core.ui import records
from accord.core.ui.forms import apply_errors


def timeline_context(request, record, plural: str) -> dict:
    return records.timeline_context(
        request, record, reverse("client_timeline", args=[plural, record.pk])
    )


@login_required
def client_detail(request, plural: str, pk: int):
    kind = kind_for(plural)
    record = get_object_or_404(
        kind.visible(request.user).prefetch_related("contact_points", "tags"), pk=pk
    )
    context = {
        "page_title": str(record),
        "kind": kind,
        "record": record,
        "can_edit": can_change(request.user, record),
        "note_form": forms.NoteForm(),
        "people": people_visible_to(request.user).filter(company=record)[:20]
        if kind is COMPANIES
        else [],
        "custom_values": records.custom_values(record),
        "lead_score": LeadScore.objects.filter(person=record).first()
        if kind is not COMPANIES and record.kind == "lead"
        else None,
        **timeline_context(request, record, plural),
    }
    return render(request, "contacts/detail.html", context)


@login_required
def client_timeline(request, plural: str, pk: int):
    kind = kind_for(plural)
    record = get_object_or_404(kind.visible(request.user), pk=pk)
    context = {"kind": kind, "record": record, **timeline_context(request, record, plural)}
    return render(request, "contacts/detail.html#timeline", context)


@login_required
@require_POST
def client_note(request, plural: str, pk: int):
    kind = kind_for(plural)
    record = get_object_or_404(kind.visible(request.user), pk=pk)
    form = forms.NoteForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            note_add(actor=request.user, record=record, text=form.cleaned_data["text"])
            form = forms.NoteForm()
        except ValidationError as error:
            apply_errors(form, error)
            status = 422
    else:
        status = 422
    context = {
        "kind": kind,
        "record": record,
        "note_form": form,
        **timeline_context(request, record, plural),
    }
    if not request.htmx:
        return redirect("client_detail", plural=plural, pk=pk)
    return render(request, "contacts/detail.html#activity", context, status=status)
