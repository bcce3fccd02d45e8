"""Files on a client, a deal or a task: each checked by its content (a file's name says
nothing about what it is) and its size, kept with the record, on its timeline."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.comms.attachments import HEAD, MAX_FILES, kind_of, safe_name
from accord.core.timeline import timeline_record
from accord.core.visibility import may_change
from accord.documents.models import Attachment


def link_of(record) -> str:
    """The attachment's field that holds `record`: person, company, deal or task."""
    return {"Person": "person", "Company": "company", "Deal": "deal", "Task": "task"}[
        type(record).__name__
    ]


def may_attach(actor: User, record) -> bool:
    owner = record.assignee if link_of(record) == "task" else record.owner
    return may_change(actor, "documents", owner)


@transaction.atomic
def attachments_add(*, actor: User, record, files: list) -> list[Attachment]:
    """Keep `files` (uploads) on `record`, which the actor sees; a file refused (its kind,
    its size, empty) refuses them all, each named with its reason, and nothing is kept."""
    if not may_attach(actor, record):
        raise PermissionDenied(_("Your role does not allow adding files here."))
    checked = _checked(files)
    link = link_of(record)
    added = []
    for upload, name, content_type in checked:
        attachment = Attachment(
            **{link: record}, name=name, content_type=content_type, size=upload.size,
            uploaded_by=actor,
        )  # fmt: skip
        attachment.file.save(name, upload, save=False)
        attachment.save()
        added.append(attachment)
    timeline_record(
        subject=record,
        kind="attachment",
        actor=actor,
        data={"names": [attachment.name for attachment in added][:20], "count": len(added)},
    )
    return added


@transaction.atomic
def attachment_delete(*, actor: User, attachment: Attachment, record) -> None:
    """Remove a file (who may add files to its record); the file goes once the removal
    has committed."""
    if not may_attach(actor, record):
        raise PermissionDenied(_("Your role does not allow removing files here."))
    stored, name = attachment.file.name, attachment.name
    attachment.delete()
    timeline_record(subject=record, kind="attachment_removed", actor=actor, data={"name": name})
    transaction.on_commit(lambda: Attachment.file.field.storage.delete(stored))


def _checked(files: list) -> list[tuple]:
    limit = settings.ACCORD_ATTACHMENT_MB * 2**20
    problems, checked = [], []
    if not files:
        problems.append(_("Choose a file."))
    if len(files) > MAX_FILES:
        problems.append(_("Add at most %(count)s files at once.") % {"count": MAX_FILES})
    for upload in files[:MAX_FILES]:
        name = safe_name(upload.name)
        upload.seek(0)
        head = upload.read(HEAD)
        upload.seek(0)
        content_type, problem = kind_of(name, head)
        if problem:
            reason = {"name": name, "reason": problem}
            problems.append(_("“%(name)s” is refused: %(reason)s") % reason)
        elif upload.size == 0:
            problems.append(_("“%(name)s” is empty.") % {"name": name})
        elif upload.size > limit:
            problems.append(
                _("“%(name)s” weighs %(size)s: over the %(limit)s MB a file may.")
                % {
                    "name": name,
                    "size": filesizeformat(upload.size),
                    "limit": settings.ACCORD_ATTACHMENT_MB,
                }
            )
        else:
            checked.append((upload, name, content_type))
    if problems:
        raise ValidationError({"files": problems})
    return checked
