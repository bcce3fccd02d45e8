"""Settings → Fields: the custom fields of people and companies (add, rename, order, retire)."""

from functools import wraps

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accord.accounts.views import manager_required
from accord.core.models import CustomField
from accord.core.services import (
    RECORD_TYPES_WITH_FIELDS,
    custom_field_move,
    custom_field_retire,
    custom_field_save,
)
from accord.core.ui.forms import apply_errors
from accord.core.visibility import ALL, WRITE, effective_level

RECORD_TYPE_NAMES = {
    "person": gettext_lazy("People"),
    "company": gettext_lazy("Companies"),
    "deal": gettext_lazy("Deals"),
}


class FieldForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    type = forms.ChoiceField(label=gettext_lazy("Type"), choices=CustomField.TYPES)
    choices = forms.CharField(
        label=gettext_lazy("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("For choice fields: one choice per line."),
    )
    currency = forms.CharField(
        label=gettext_lazy("Currency"),
        max_length=3,
        required=False,
        help_text=gettext_lazy("For money: EUR, USD, RUB, ILS, AMD…"),
    )
    help_text = forms.CharField(label=gettext_lazy("Help text"), max_length=200, required=False)


def settings_admin(view):
    """Only roles that change settings for everyone reach the field screens."""

    @manager_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if effective_level(request.user, "settings", WRITE) != ALL:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


@settings_admin
def fields(request):
    groups = [
        {
            "record_type": kind,
            "name": RECORD_TYPE_NAMES[kind],
            "fields": CustomField.objects.filter(record_type=kind),
        }
        for kind in RECORD_TYPES_WITH_FIELDS
    ]
    return render(
        request,
        "accounts/fields.html",
        {"page_title": _("Fields"), "groups": groups, "section": "fields"},
    )


@settings_admin
def field_edit(request, record_type: str, field_id: int | None = None):
    if record_type not in RECORD_TYPES_WITH_FIELDS:
        raise Http404
    field = (
        get_object_or_404(CustomField, pk=field_id, record_type=record_type) if field_id else None
    )
    initial = {}
    if field:
        initial = {
            "label": field.label,
            "type": field.type,
            "choices": "\n".join(field.choices),
            "currency": field.currency,
            "help_text": field.help_text,
        }
    form = FieldForm(request.POST or None, initial=initial)
    if field:
        form.fields["type"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            custom_field_save(
                actor=request.user,
                record_type=record_type,
                field=field,
                label=data["label"],
                type=data["type"],
                choices=data["choices"].splitlines(),
                currency=data["currency"],
                help_text=data["help_text"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("fields")
    title = (
        field.label
        if field
        else _("New field for %(kind)s") % {"kind": RECORD_TYPE_NAMES[record_type].lower()}
    )
    return render(
        request,
        "accounts/field_form.html",
        {"page_title": title, "form": form, "field": field, "section": "fields"},
    )


@settings_admin
@require_POST
def field_action(request, field_id: int):
    field = get_object_or_404(CustomField, pk=field_id)
    action = request.POST.get("action")
    try:
        if action in ("up", "down"):
            custom_field_move(actor=request.user, field=field, offset=-1 if action == "up" else 1)
        elif action in ("retire", "restore"):
            custom_field_retire(actor=request.user, field=field, retired=action == "retire")
    except PermissionDenied as error:
        messages.error(request, str(error))
    return redirect("fields")
