"""Saving a list's filters as a segment, and deleting one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accord.contacts.queries import segments_visible_to
from accord.contacts.services.segments import segment_delete, segment_save
from accord.contacts.views.kinds import kind_for


@login_required
@require_POST
def segment_create(request, plural: str):
    kind = kind_for(plural)
    filters = dict(QueryDict(request.POST.get("filters", "")).items())
    try:
        segment = segment_save(
            actor=request.user,
            name=request.POST.get("name", ""),
            record_type=kind.slug,
            filters=filters,
            shared=bool(request.POST.get("shared")),
        )
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        return redirect(
            reverse("client_list", args=[plural]) + "?" + request.POST.get("filters", "")
        )
    messages.success(request, _("Segment “%(name)s” saved.") % {"name": segment})
    return redirect(reverse("client_list", args=[plural]) + f"?segment={segment.pk}")


@login_required
@require_POST
def segment_remove(request, plural: str, segment_id: int):
    segment = get_object_or_404(segments_visible_to(request.user), pk=segment_id)
    try:
        segment_delete(actor=request.user, segment=segment)
    except PermissionDenied as error:
        messages.error(request, str(error))
    return redirect("client_list", plural=plural)
