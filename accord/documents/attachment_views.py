"""The files card of a client's, a deal's or a task's page: the files kept there, a box
to add more, and each one's download (for whoever sees the record)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from accord.documents.models import Attachment
from accord.documents.queries import (
    ATTACHED_TO,
    attached_record,
    attachment_by_token,
    attachments_of,
)
from accord.documents.services.attachments import attachment_delete, attachments_add, may_attach


def _record(request):
    source = request.POST if request.method == "POST" else request.GET
    for link in ATTACHED_TO:
        if source.get(link):
            record = attached_record(request.user, link, source[link])
            if record is None:
                raise Http404
            return link, record
    raise Http404


@login_required
def attachments_panel(request):
    """GET: the card; POST (multipart): add the chosen files, then the card again."""
    link, record = _record(request)
    errors = []
    if request.method == "POST":
        try:
            attachments_add(actor=request.user, record=record,
                            files=request.FILES.getlist("files"))  # fmt: skip
        except ValidationError as error:
            errors = error.message_dict.get("files", error.messages)
        except PermissionDenied as error:
            errors = [str(error)]
    return _panel(request, link, record, errors, status=422 if errors else 200)


@login_required
@require_POST
def attachment_remove(request, pk: int):
    attachment = get_object_or_404(Attachment, pk=pk)
    found = attachment_by_token(request.user, attachment.token)
    if found is None:
        raise Http404
    link = next(name for name in ATTACHED_TO if getattr(attachment, f"{name}_id"))
    errors = []
    try:
        attachment_delete(actor=request.user, attachment=attachment, record=found[1])
    except PermissionDenied as error:
        errors = [str(error)]
    return _panel(request, link, found[1], errors)


@login_required
def attachment_file(request, token: str, name: str = ""):
    """The file as a download: never shown in the browser's own page."""
    found = attachment_by_token(request.user, token)
    if found is None:
        raise Http404
    attachment = found[0]
    try:
        stream = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(stream, as_attachment=True, filename=attachment.name,
                        content_type=attachment.content_type)  # fmt: skip


def _panel(request, link, record, errors, status=200):
    context = {
        "link": link,
        "record": record,
        "attachments": attachments_of(record, link),
        "may_attach": may_attach(request.user, record),
        "errors": errors,
    }
    return render(request, "documents/attachments.html", context, status=status)
