"""Documents made from a deal: numbered, rendered to PDF by the worker in each language,
versioned when made again, and seen only by who may see the deal."""

import io
import shutil
import subprocess
import threading

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader

from accord.accounts.services import user_create
from accord.documents.models import Document, DocumentKind, DocumentTemplate
from accord.documents.services.documents import document_generate, document_regenerate
from accord.documents.services.templates import ensure_shipped_documents, template_save
from accord.sales.services import deal_create
from tests.conftest import PASSWORD, log_in, run_worker

pytestmark = pytest.mark.django_db(transaction=True)  # the PDF is queued after the commit


def invoice_template():
    return DocumentTemplate.objects.get(shipped="invoice")


def pdf_text(document: Document) -> str:
    document.refresh_from_db()
    assert document.state == Document.READY, document.error
    with document.pdf.open("rb") as stream:
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(stream.read())).pages)


def test_a_new_instance_has_the_shipped_kinds_with_a_template_each(db):
    assert [kind.code for kind in DocumentKind.objects.all()] == [
        "offer",
        "contract",
        "invoice",
        "act",
        "credit_note",
    ]
    assert sorted(DocumentTemplate.objects.values_list("shipped", flat=True)) == [
        "act",
        "contract",
        "credit_note",
        "invoice",
        "offer",
    ]


def test_an_instance_made_before_a_kind_was_shipped_gets_it_and_keeps_the_rest(db):
    contract = DocumentKind.objects.get(code="contract")
    contract.name, contract.retired = "Agreement", True
    contract.save()
    DocumentTemplate.objects.filter(kind__code="credit_note").delete()
    DocumentKind.objects.filter(code="credit_note").delete()
    ensure_shipped_documents()
    contract.refresh_from_db()
    assert (contract.name, contract.retired) == ("Agreement", True)
    assert DocumentTemplate.objects.filter(kind__code="credit_note", shipped="credit_note").exists()


def test_an_invoice_is_numbered_and_its_pdf_says_who_pays_what(owner, deal):
    with time_machine.travel("2026-03-10 10:00Z"):
        first = document_generate(
            actor=owner, deal=deal, template=invoice_template(), language="en"
        )
        second = document_generate(
            actor=owner, deal=deal, template=invoice_template(), language="en"
        )
    assert (first.number, second.number) == ("INV-2026-0001", "INV-2026-0002")
    assert first.state == Document.PENDING  # the worker makes the PDF
    assert run_worker() == 2
    text = pdf_text(first)
    for expected in [
        "INV-2026-0001",
        "Okna Plus LLC",
        "Rosa Bakery",
        "Window 120×140",
        "Installation",
        "RUB",
        "58,500.50",
        "fifty-eight thousand",
    ]:
        assert expected in text, expected
    assert "7701234567" in text  # our tax id
    with time_machine.travel("2027-01-02 10:00Z"):  # a new year starts again from 1
        assert (
            document_generate(
                actor=owner, deal=deal, template=invoice_template(), language="en"
            ).number
            == "INV-2027-0001"
        )


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("ru", ["Счёт", "пятьдесят восемь тысяч", "Покупатель"]),
        ("he", ["חשבונית", "חמישים ושמונה אלף"]),
        ("hy", ["Հաշիվ", "հիսունութ հազար հինգ հարյուր"]),
        ("en", ["Invoice", "Buyer"]),
    ],
)
def test_each_language_prints_in_its_own_script(owner, deal, language, words, tmp_path):
    document = document_generate(
        actor=owner, deal=deal, template=invoice_template(), language=language
    )
    run_worker()
    text = pdf_text(document).lower()  # the parties' headings are in capitals
    for word in map(str.lower, words):
        # Right-to-left text comes out of the PDF in visual order: compare either way.
        assert word in text or word[::-1] in text, (word, text[:500])
    assert not_blank(document, tmp_path)


def not_blank(document: Document, folder) -> bool:
    """The first page drawn as an image has ink on it (pdftoppm, from poppler-utils)."""
    tool = shutil.which("pdftoppm")
    assert tool, "make test-deps installs poppler-utils"
    subprocess.run(
        [tool, "-r", "20", "-gray", "-singlefile", document.pdf.path, folder / "page"], check=True
    )
    pixels = (folder / "page.pgm").read_bytes().split(b"\n", 3)[3]  # after magic, size, depth
    return sum(1 for value in pixels if value < 128) > 100


def test_making_again_keeps_the_old_version_under_the_same_number(owner, deal):
    first = document_generate(actor=owner, deal=deal, template=invoice_template(), language="en")
    deal.title = "Windows and a door"
    deal.save()
    again = document_regenerate(actor=owner, document=first)
    run_worker()
    assert (again.number, again.version) == (first.number, 2)
    assert "Windows and a door" not in pdf_text(first)  # the first version is as it was
    assert Document.objects.filter(number=first.number).count() == 2
    assert again.file_name == f"{first.number}-v2.pdf"


def test_a_template_with_an_unknown_field_or_bad_syntax_is_refused_with_its_place(admin):
    kind = DocumentKind.objects.get(code="offer")
    with pytest.raises(ValidationError) as refused:
        template_save(
            actor=admin,
            data={"name": "Mine", "kind": kind, "body": "<p>Hello</p>\n<p>{{ deal.widht }}</p>"},
        )
    assert refused.value.message_dict["body"] == [
        "Line 2, position 7: there is no field “deal.widht”."
    ]
    with pytest.raises(ValidationError) as refused:
        template_save(
            actor=admin,
            data={
                "name": "Mine",
                "kind": kind,
                "body": "<p>\n{% for item in items %}{{ item.name }}",
            },
        )
    assert refused.value.message_dict["body"][0].startswith("Line 2:")
    saved = template_save(
        actor=admin,
        data={
            "name": "Mine",
            "kind": kind,
            "body": "{% for line in items %}{{ line.name }} {{ loop.index }}{% endfor %}"
            "{{ deal.total }}",
        },
    )
    assert saved.pk and not DocumentTemplate.objects.filter(name="Mine", retired=True).exists()


def test_a_manager_may_not_change_templates(owner):
    with pytest.raises(PermissionDenied):
        template_save(
            actor=owner, data={"name": "x", "kind": DocumentKind.objects.first(), "body": "x"}
        )


def test_a_field_the_deal_lacks_is_an_empty_place_and_a_warning(owner, deal, admin):
    kind = DocumentKind.objects.get(code="offer")
    template = template_save(
        actor=admin,
        data={
            "name": "Short",
            "kind": kind,
            "body": "<p>To: {{ client.city }}!</p><p>{{ deal.title }}</p>",
        },
    )
    document = document_generate(actor=owner, deal=deal, template=template, language="en")
    run_worker()
    assert "To: !" in pdf_text(document)
    document.refresh_from_db()
    assert document.warnings == ["client.city"]


def test_a_template_reaches_nothing_but_its_values(owner, deal, admin, settings, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not for documents")
    kind = DocumentKind.objects.get(code="offer")
    # Python's insides are not fields: refused on save.
    with pytest.raises(ValidationError):
        template_save(actor=admin, data={"name": "x", "kind": kind, "body": "{{ deal.__class__ }}"})
    # A file of the server or another address stays out of the PDF, and the rest is made.
    template = template_save(
        actor=admin,
        data={
            "name": "Peek",
            "kind": kind,
            "body": f'<img src="file://{secret}"><img src="http://127.0.0.1:9/x.png">'
            f'<link rel="stylesheet" href="file:///etc/passwd"><p>{{{{ deal.title }}}}</p>',
        },
    )
    document = document_generate(actor=owner, deal=deal, template=template, language="en")
    run_worker()
    text = pdf_text(document)
    assert "Windows for the bakery" in text and "root:" not in text
    # Jinja's sandbox stops a method call on a value as the document is made.
    template.body = "{{ deal.title.__class__.__mro__ }}"
    template.save()
    failed = document_generate(actor=owner, deal=deal, template=template, language="en")
    run_worker()
    failed.refresh_from_db()
    assert failed.state == Document.FAILED and "unsafe" in failed.error


def test_documents_are_seen_only_by_who_may_see_the_deal(owner, deal, manager_client):
    document = document_generate(actor=owner, deal=deal, template=invoice_template(), language="en")
    run_worker()
    document.refresh_from_db()
    url = f"/documents/file/{document.token}/{document.file_name}"
    response = manager_client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    stranger = user_create(email="sam@example.com", password=PASSWORD, role="manager")
    other = Client()
    assert log_in(other, stranger.email)
    stranger.team = None
    assert other.get(url).status_code == 404  # the link alone opens nothing
    assert other.get(f"/documents/deal/{deal.pk}/").status_code == 404
    assert Client().get(url).status_code == 302  # to the login page
    with pytest.raises(PermissionDenied):
        document_generate(actor=stranger, deal=deal, template=invoice_template())


def test_the_deal_card_makes_a_document_and_shows_it_when_ready(owner, deal, manager_client):
    panel = manager_client.get(f"/documents/deal/{deal.pk}/")
    assert "Make the document" in panel.content.decode()
    made = manager_client.post(
        f"/documents/deal/{deal.pk}/",
        {"template": invoice_template().pk, "language": "ru"},
        headers={"HX-Request": "true"},
    )
    page = made.content.decode()
    assert "Being made…" in page and 'hx-trigger="every 1s"' in page
    run_worker()
    page = manager_client.get(f"/documents/deal/{deal.pk}/").content.decode()
    assert "Being made…" not in page and "every 1s" not in page
    document = Document.objects.get()
    assert f"/documents/file/{document.token}/" in page
    timeline = manager_client.get(f"/deals/{deal.pk}/").content.decode()
    assert document.number in timeline


def test_documents_made_at_once_get_distinct_numbers_with_no_gap(owner, deal):
    """Eight people issue invoices at the same moment: each number once, none skipped."""
    template = invoice_template()
    numbers, problems = [], []

    def issue():
        try:
            for _ in range(5):
                numbers.append(
                    document_generate(
                        actor=owner, deal=deal, template=template, language="en"
                    ).number
                )
        except Exception as error:
            problems.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert problems == []
    year = timezone.localdate().year
    assert sorted(numbers) == [f"INV-{year}-{n:04d}" for n in range(1, 41)]


def test_the_api_makes_a_document_and_hands_its_pdf_when_ready(owner, deal, api):
    templates = api.get("/api/v1/document-templates").json()
    invoice = next(t for t in templates if t["kind"] == "invoice")
    bad = api.post_json("/api/v1/documents", {"deal": "9²", "template": invoice["id"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "deal"
    made = api.post_json(
        "/api/v1/documents", {"deal": str(deal.pk), "template": invoice["id"], "language": "hy"}
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["state"] == "pending" and body["pdf"] is None and body["number"].startswith("INV-")
    assert api.get(f"/api/v1/documents/{body['id']}/pdf").status_code == 409
    run_worker()
    ready = api.get(made["Location"]).json()
    pdf = api.get(ready["pdf"])
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    again = api.post_json(f"/api/v1/documents/{body['id']}/again", {})
    assert again.status_code == 201 and again.json()["version"] == 2
    listed = api.get(f"/api/v1/documents?deal={deal.pk}").json()["items"]
    assert [item["version"] for item in listed] == [2, 1]


def test_the_editor_previews_a_template_on_a_real_deal_in_a_frame_of_its_own(deal, admin_client):
    kind = DocumentKind.objects.get(code="invoice")
    body = "<style>p { color: red }</style><p>{{ deal.title }} · {{ document.number }}</p>"
    answer = admin_client.post(
        "/settings/documents/preview/",
        {"body": body, "deal": deal.pk, "kind": kind.pk, "language": "en"},
    )
    page = answer.content.decode()
    frame = page.split('src="', 1)[1].split('"', 1)[0]
    shown = admin_client.get(frame)
    assert "Windows for the bakery · INV-" in shown.content.decode()
    assert "'unsafe-inline'" in shown["Content-Security-Policy"]  # the template's own styles
    assert "script" not in shown["Content-Security-Policy"]  # and nothing runs
    wrong = admin_client.post(
        "/settings/documents/preview/",
        {"body": "{{ deal.nope }}", "deal": deal.pk, "language": "en"},
    )
    assert "there is no field “deal.nope”" in wrong.content.decode()


def test_the_client_page_lists_the_documents_of_their_deals(owner, deal, manager_client):
    document = document_generate(actor=owner, deal=deal, template=invoice_template(), language="en")
    page = manager_client.get(f"/documents/client/?person={deal.person_id}").content.decode()
    assert document.number in page and deal.title in page
    company = manager_client.get(f"/documents/client/?company={deal.company_id}").content.decode()
    assert document.number in company
    stranger = user_create(email="mia@example.com", password=PASSWORD, role="marketing")
    other = Client()
    assert log_in(other, stranger.email)
    # Marketing sees every client and deal but no document (its documents level: none).
    assert (
        document.number
        not in other.get(f"/documents/client/?person={deal.person_id}").content.decode()
    )


def test_a_document_goes_by_e_mail_with_its_pdf_attached(owner, deal, manager_client, admin):
    from accord.comms.models import Message
    from accord.comms.services import mailbox_save

    mailbox_save(actor=admin, mailbox=None, data={
        "name": "Sales", "address": "sales@okna.example", "smtp_host": "127.0.0.1",
        "smtp_port": 2525, "smtp_security": "none"})  # fmt: skip
    document = document_generate(actor=owner, deal=deal, template=invoice_template(), language="en")
    run_worker()
    panel = manager_client.get(f"/documents/deal/{deal.pk}/").content.decode()
    compose = f"/mail/new/?deal={deal.pk}&document={document.pk}"
    assert compose.replace("&", "&amp;") in panel
    form = manager_client.get(compose).content.decode()
    assert document.file_name in form and f"Invoice {document.number}" in form
    sent = manager_client.post("/mail/new/", {
        "deal": deal.pk, "document": document.pk, "mailbox": Message._meta.get_field("mailbox")
        .related_model.objects.get().pk, "to": "anna@rosa.example",
        "subject": f"Invoice {document.number}", "text": "Please find the invoice attached.",
        "key": "k1"})  # fmt: skip
    assert sent.status_code == 302, sent.content.decode()[:2000]
    message = Message.objects.get()
    (attached,) = message.attachments.all()
    assert attached.name == document.file_name and attached.content_type == "application/pdf"
    # A document the user may not see cannot be attached by its number.
    stranger = user_create(email="sam@example.com", password=PASSWORD, role="manager")
    theirs = deal_create(actor=stranger, data={"title": "Their deal", "currency": "RUB"})
    hidden = document_generate(actor=stranger, deal=theirs, template=invoice_template())
    run_worker()
    peek = f"/mail/new/?deal={deal.pk}&document={hidden.pk}"
    assert manager_client.get(peek).status_code == 404


def test_the_signature_and_the_stamp_are_printed_on_the_invoice(owner, deal, admin_client):
    def picture(colour):
        stream = io.BytesIO()
        Image.new("RGB", (120, 60), colour).save(stream, "PNG")
        return SimpleUploadedFile("picture.png", stream.getvalue(), content_type="image/png")

    form = {"name": "Okna Plus LLC", "country": "RU", "currency": "RUB",
            "time_zone": "Europe/Moscow", "date_format": "d.m.Y", "version": ""}  # fmt: skip
    saved = admin_client.post("/settings/company/", {**form, "signature": picture("navy"),
                                                     "stamp": picture("blue")})  # fmt: skip
    assert saved.status_code == 302
    assert admin_client.get("/settings/company/stamp")["Content-Type"] == "image/png"
    document = document_generate(actor=owner, deal=deal, template=invoice_template(), language="en")
    run_worker()
    document.refresh_from_db()
    with document.pdf.open("rb") as stream:
        page = PdfReader(io.BytesIO(stream.read())).pages[0]
    assert len(page.images) == 2  # the signature and the stamp
