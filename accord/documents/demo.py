"""Demo documents: offers on deals being discussed, contracts and acts on won ones (their
invoices are billing's), each with its PDF already made, so a deal's card shows what the
documents look like; a contract kept as a Word template, with one contract made from it;
and the measurer's notes kept as a file on the deals being measured."""

from django.core.files.uploadedfile import SimpleUploadedFile

from accord.accounts.models import User
from accord.documents import word
from accord.documents.models import Document, DocumentKind, DocumentTemplate
from accord.documents.services.attachments import attachments_add
from accord.documents.services.documents import document_generate, document_make
from accord.documents.services.templates import template_save
from accord.sales.models import Deal


def populate() -> None:
    if Document.objects.exists():
        return
    templates = {t.shipped: t for t in DocumentTemplate.objects.exclude(shipped="")}
    with_items = Deal.objects.filter(line_items__isnull=False).distinct().select_related("owner")
    plan = [
        (with_items.filter(status="open").order_by("-updated_at")[:6], ["offer"]),
        (
            with_items.filter(status="won").order_by("-closed_at")[:6],
            ["contract", "act"],
        ),
    ]
    for deals, codes in plan:
        for deal in deals:
            for code in codes:
                if code in templates and deal.owner is not None:
                    document = document_generate(
                        actor=deal.owner, deal=deal, template=templates[code], language="en"
                    )
                    document_make(document.pk)

    admin = User.objects.filter(role__slug="administrator", is_active=True).first()
    won = with_items.filter(status="won", owner__isnull=False).order_by("-closed_at").first()
    if admin is not None:
        upload = SimpleUploadedFile("contract.docx", word.example(), content_type=word.CONTENT_TYPE)
        contract = DocumentKind.objects.get(code="contract")
        in_word = template_save(
            actor=admin, data={"name": "Contract (Word)", "kind": contract, "file": upload}
        )
        if won is not None:
            document = document_generate(actor=won.owner, deal=won, template=in_word)
            document_make(document.pk)

    for deal in with_items.filter(status="open").order_by("-updated_at")[:6]:
        if deal.owner is None:
            continue
        sizes = ", ".join(f"{item.name}: {item.quantity:g}" for item in deal.line_items.all())
        notes = f"Measured on site for “{deal.title}”.\n{sizes}\nWalls: brick; sills to replace.\n"
        attachments_add(
            actor=deal.owner,
            record=deal,
            files=[SimpleUploadedFile("measurements.txt", notes.encode())],
        )
