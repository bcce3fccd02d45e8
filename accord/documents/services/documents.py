"""Making documents from a deal: a click (or an automation step) takes the next number and
stores what the document will say; the worker renders its PDF; regenerating makes the next
version under the same number and keeps the earlier ones."""

import logging
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.core.events import emit
from accord.core.models import CompanyProfile
from accord.core.timeline import timeline_record
from accord.core.visibility import may_change
from accord.documents import pdf, word
from accord.documents.fields import Line, language_choices, values_for
from accord.documents.models import Document, DocumentTemplate
from accord.documents.services.numbers import next_number
from accord.sales.models import Deal
from accord.sales.queries import deals_visible_to

log = logging.getLogger(__name__)


def may_make(actor: User, deal: Deal) -> bool:
    return may_change(actor, "documents", deal.owner)


@transaction.atomic
def document_generate(
    *, actor: User, deal: Deal, template: DocumentTemplate, language: str = ""
) -> Document:
    """A new document from `template` for `deal`, numbered now; its PDF follows from the
    worker (the page shows it when ready)."""
    deal = _deal_for(actor, deal)
    if template.retired or template.kind.retired:
        raise ValidationError({"template": [_("This template is no longer used.")]})
    language = _language(language)
    today = timezone.localdate()
    number = next_number(template.kind, today.year)
    return document_store(
        actor=actor, template=template, language=language, number=number, version=1,
        issued_on=today, deal=deal,
    )  # fmt: skip


@transaction.atomic
def document_regenerate(*, actor: User, document: Document) -> Document:
    """The document made again from its deal as it is now: the next version, same number."""
    if document.values.get("owned_by"):
        raise ValidationError(
            {"template": [_("This document is printed from its invoice; it is not made again.")]}
        )
    deal = _deal_for(actor, document.deal)
    template = document.template
    if template is None:
        raise ValidationError({"template": [_("The template of this document was deleted.")]})
    version = Document.objects.filter(kind_id=document.kind_id, number=document.number).aggregate(
        n=Max("version")
    )["n"]
    return document_store(
        actor=actor, template=template, language=document.language, number=document.number,
        version=version + 1, issued_on=timezone.localdate(), deal=deal,
    )  # fmt: skip


def document_make(document_id: int) -> str:
    """Render a pending document's PDF (the worker's job); answers its state. A failure is
    kept on the document with its reason, to be seen and made again."""
    document = Document.objects.select_related("template").filter(pk=document_id).first()
    if document is None or document.state == Document.READY:
        return document.state if document else "gone"
    if document.template is None:
        Document.objects.filter(pk=document_id).update(
            state=Document.FAILED, error=_("The template of this document was deleted.")
        )
        return Document.FAILED
    document.error = ""
    try:
        if document.template.format == DocumentTemplate.DOCX:
            _make_word(document)
        else:
            made = pdf.make(document.template, document.values, document.language)
            document.pdf.save(document.file_name, ContentFile(made.pdf), save=False)
            document.warnings = made.missing
    except Exception as error:  # a template's or a font's failure must not lose the document
        log.exception("document %s failed", document_id)
        Document.objects.filter(pk=document_id).update(
            state=Document.FAILED, error=str(error)[:2000]
        )
        return Document.FAILED
    Document.objects.filter(pk=document_id).update(
        pdf=document.pdf.name,
        docx=document.docx.name,
        state=Document.READY,
        error=document.error,
        warnings=document.warnings,
        ready_at=timezone.now(),
    )
    return Document.READY


def _make_word(document: Document) -> None:
    """A Word template's document: the filled DOCX, and its PDF where the server prints
    one (if not, the document is ready as a Word file and says why it has no PDF)."""
    filled = word.make(Path(document.template.file.path), document.values)
    document.docx.save(document.docx_name, ContentFile(filled.docx), save=False)
    if filled.pdf:
        document.pdf.save(document.file_name, ContentFile(filled.pdf), save=False)
    document.warnings, document.error = filled.missing, filled.pdf_problem


def _deal_for(actor: User, deal: Deal | None) -> Deal:
    if deal is None:
        raise ValidationError({"deal": [_("Documents are made from a deal.")]})
    found = deals_visible_to(actor).select_related("owner").filter(pk=deal.pk).first()
    if found is None:
        raise PermissionDenied(_("You cannot see this deal."))
    if not may_make(actor, found):
        raise PermissionDenied(_("Your role does not allow making documents for this deal."))
    return found


def _language(language: str) -> str:
    codes = [code for code, _name in language_choices()]
    if not language:
        language = CompanyProfile.current().language or codes[0]
    if language not in codes:
        raise ValidationError({"language": [_("Choose one of the languages Accord speaks.")]})
    return language


def document_store(
    *,
    actor: User,
    template: DocumentTemplate,
    language: str,
    number: str,
    version: int,
    issued_on,
    deal: Deal | None = None,
    person=None,
    company=None,
    currency: str = "",
    lines: list[Line] | None = None,
    invoice: dict | None = None,
    owned_by: str = "",
) -> Document:
    """Store a document's values under `number` and queue its PDF. Called inside the
    caller's transaction, which has checked the actor may: a deal's document above, an
    invoice's by billing (its own lines, client and due date)."""
    language = _language(language)
    title = template.kind.name  # as stored: a shipped kind's name is translated where shown
    values = values_for(
        deal=deal, person=person, company=company, currency=currency, lines=lines,
        invoice=invoice, user=actor, language=language, number=number, title=title,
        version=version, issued_on=issued_on,
    )  # fmt: skip
    if owned_by:  # the record it prints (an invoice): made again from that, not the deal
        values["owned_by"] = owned_by
    person = deal.person if deal is not None and person is None else person
    company = deal.company if deal is not None and company is None else company
    document = Document.objects.create(
        kind=template.kind,
        template=template,
        deal=deal,
        person=person,
        company=company,
        number=number,
        version=version,
        title=title,
        language=language,
        issued_on=issued_on,
        values=values,
        created_by=actor,
    )
    subject = deal or person or company
    if subject is not None and not owned_by:  # an invoice's page and timeline say it
        timeline_record(
            subject=subject,
            kind="document",
            actor=actor,
            data={"document_id": document.pk, "number": number, "title": title,
                  "version": version},
        )  # fmt: skip
    emit(
        "document.generated",
        document_id=document.pk,
        deal_id=deal.pk if deal is not None else None,
        kind=template.kind.code,
    )
    transaction.on_commit(lambda: _queue(document.pk))
    return document


def _queue(document_id: int) -> None:
    from accord.documents.tasks import make_document  # the task module imports the services

    make_document.enqueue(document_id)
