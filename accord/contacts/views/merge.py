"""Possible duplicates and merging two of them; a person's data exported or erased."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accord.contacts.queries import duplicate_pairs, people_visible_to, person_data
from accord.contacts.services.common import COMPANY_FIELDS, PERSON_FIELDS, can_change
from accord.contacts.services.merge import clients_merge
from accord.contacts.services.people import person_erase
from accord.contacts.views.kinds import PEOPLE, Kind, kind_for
from accord.core.ui import records


@login_required
def duplicates(request, plural: str):
    kind = kind_for(plural)
    return render(
        request,
        "contacts/duplicates.html",
        {
            "page_title": _("Possible duplicates"),
            "kind": kind,
            "pairs": duplicate_pairs(request.user, kind.slug),
        },
    )


@login_required
def merge(request, plural: str):
    kind = kind_for(plural)
    visible = kind.visible(request.user).prefetch_related("contact_points", "tags")
    a = get_object_or_404(visible, pk=record_id(request, "a"))
    b = get_object_or_404(visible, pk=record_id(request, "b"))
    if not (can_change(request.user, a) and can_change(request.user, b)):
        raise Http404
    if request.method == "POST":
        take = [name for name in merge_fields(kind) if request.POST.get(name) == "b"]
        try:
            survivor = clients_merge(actor=request.user, survivor=a, other=b, take_from_other=take)
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, _("Merged into %(name)s.") % {"name": survivor})
            return redirect("client_detail", plural=plural, pk=survivor.pk)
    rows = []
    for name in merge_fields(kind):
        field = a._meta.get_field(name)
        left, right = display_value(a, field), display_value(b, field)
        rows.append(
            {
                "name": name,
                "label": capfirst(field.verbose_name),
                "a": left,
                "b": right,
                "pick_b": left in ("", "—") and right not in ("", "—"),
                "same": left == right,
            }
        )
    return render(
        request,
        "contacts/merge.html",
        {
            "page_title": _("Merge duplicates"),
            "kind": kind,
            "a": a,
            "b": b,
            "rows": rows,
        },
    )


def record_id(request, name: str) -> int:
    """An id from the query or the form; anything else is simply not found."""
    value = request.GET.get(name) or request.POST.get(name) or ""
    if not value.isdecimal() or len(value) > 18:
        raise Http404
    return int(value)


def merge_fields(kind: Kind) -> list[str]:
    return PERSON_FIELDS if kind is PEOPLE else COMPANY_FIELDS


def display_value(record, field) -> str:
    if field.choices:
        return records.shown(getattr(record, f"get_{field.name}_display")())
    return records.shown(getattr(record, field.name))


@login_required
def person_export(request, pk: int):
    person = get_object_or_404(people_visible_to(request.user), pk=pk)
    response = JsonResponse(
        person_data(person), json_dumps_params={"ensure_ascii": False, "indent": 2}
    )
    response["Content-Disposition"] = f'attachment; filename="person-{person.pk}.json"'
    return response


@login_required
@require_POST
def person_erase_view(request, pk: int):
    person = get_object_or_404(people_visible_to(request.user), pk=pk)
    try:
        person_erase(actor=request.user, person=person)
    except PermissionDenied as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The person's data is erased; only the fact remains."))
    return redirect("client_detail", plural="people", pk=pk)
