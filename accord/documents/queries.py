"""Reads of documents, scoped by who may see them: a document is seen by whoever may see
its deal and whose role shows documents (of the deal's owner: all, the team's, or own)."""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accord.comms.attachments import Offered
from accord.contacts.queries import companies_visible_to, people_visible_to
from accord.core.api.schemas import id_of
from accord.core.visibility import READ, scope
from accord.documents.models import Attachment, Document, DocumentKind, DocumentTemplate
from accord.sales.queries import deals_visible_to
from accord.work.queries import tasks_visible_to

# Kinds another app makes from its own records (billing: invoices and credit notes, from
# an invoice): a deal's Documents card does not offer them.
MADE_ELSEWHERE: set[str] = set()
# Where a file may be kept, and who sees it: whoever sees its record.
ATTACHED_TO = {"person": people_visible_to, "company": companies_visible_to,
               "deal": deals_visible_to, "task": tasks_visible_to}  # fmt: skip


def documents_visible_to(user, action: str = READ) -> QuerySet[Document]:
    documents = Document.objects.filter(deal__in=deals_visible_to(user).values("pk"))
    return scope(
        documents, user=user, record_type="documents", action=action, owner_field="deal__owner"
    )


def deal_documents(user, deal) -> list[Document]:
    """The deal's documents, newest first (as on the client's page)."""
    return list(
        documents_visible_to(user)
        .filter(deal=deal)
        .select_related("kind", "created_by")
        .order_by("-created_at", "-id")[:200]
    )


def client_documents(user, *, person=None, company=None) -> list[Document]:
    documents = documents_visible_to(user).select_related("kind", "deal")
    documents = documents.filter(person=person) if person else documents.filter(company=company)
    return list(documents.order_by("-created_at")[:200])


def document_by_token(user, token: str) -> Document | None:
    return documents_visible_to(user).filter(token=token).first()


def offered_pdf(user, reference: str) -> Offered | None:
    """A ready document's PDF for an e-mail the user writes (comms' ATTACHABLE hook); a
    Word template's document without a PDF sends its Word file."""
    document = documents_visible_to(user).filter(pk=id_of(reference), state=Document.READY).first()
    if document is None or not (document.pdf or document.docx):
        return None
    stored, name = (
        (document.pdf, document.file_name) if document.pdf else (document.docx, document.docx_name)
    )
    with stored.open("rb") as stream:
        content = stream.read()
    subject = f"{_(document.title)} {document.number}"
    return Offered(name=name, content=content, subject=subject)


def templates_in_use(*, for_deal: bool = False) -> list[DocumentTemplate]:
    templates = DocumentTemplate.objects.filter(retired=False, kind__retired=False)
    if for_deal:
        templates = templates.exclude(kind__code__in=MADE_ELSEWHERE)
    return list(templates.select_related("kind"))


def kinds() -> QuerySet[DocumentKind]:
    return DocumentKind.objects.all()


def preview_deals(user, limit: int = 30):
    """The deals a template's preview can be tried on: the user's latest."""
    return (
        deals_visible_to(user).select_related("person", "company").order_by("-updated_at")[:limit]
    )


def attached_record(user, link: str, record_id) -> object | None:
    """The client, deal or task `link` names, if the user may see it."""
    visible = ATTACHED_TO.get(link)
    found = id_of(record_id) if visible else None
    return visible(user).filter(pk=found).first() if found else None


def attachments_of(record, link: str) -> list[Attachment]:
    return list(Attachment.objects.filter(**{link: record}).select_related("uploaded_by")[:200])


def attachment_by_token(user, token: str) -> tuple[Attachment, object] | None:
    """A file and its record, when the user may see the record."""
    attachment = Attachment.objects.filter(token=token).first()
    if attachment is None:
        return None
    link = next(name for name in ATTACHED_TO if getattr(attachment, f"{name}_id"))
    record = attached_record(user, link, getattr(attachment, f"{link}_id"))
    return (attachment, record) if record is not None else None
