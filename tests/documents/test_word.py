"""Word templates: uploaded and checked, filled from a deal into a Word file and its PDF
(LibreOffice), and the same through the settings screens and the API."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from docx import Document as WordDocument
from PIL import Image
from pypdf import PdfReader

from accord.accounts.services import token_create
from accord.comms.services import mailbox_save
from accord.documents import word
from accord.documents.models import Document, DocumentKind, DocumentTemplate
from accord.documents.services.documents import document_generate
from accord.documents.services.templates import template_save
from tests.conftest import ApiClient, run_worker

pytestmark = pytest.mark.django_db(transaction=True)  # the document is made after the commit


def word_file(*paragraphs: str, rows: list[list[str]] | None = None) -> bytes:
    document = WordDocument()
    for text in paragraphs:
        document.add_paragraph(text)
    if rows:
        table = document.add_table(rows=len(rows), cols=len(rows[0]))
        for row, texts in zip(table.rows, rows, strict=True):
            for cell, text in zip(row.cells, texts, strict=True):
                cell.text = text
    stream = io.BytesIO()
    document.save(stream)
    return stream.getvalue()


def upload(content: bytes, name: str = "contract.docx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=word.CONTENT_TYPE)


def contract_kind() -> DocumentKind:
    return DocumentKind.objects.get(code="contract")


def word_template(admin, content: bytes, name: str = "Our contract") -> DocumentTemplate:
    data = {"name": name, "kind": contract_kind(), "file": upload(content)}
    return template_save(actor=admin, data=data)


def word_text(content: bytes) -> str:
    document = WordDocument(io.BytesIO(content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def stored(field) -> bytes:
    with field.open("rb") as stream:
        return stream.read()


def test_a_word_template_names_the_paragraph_of_each_problem(admin):
    content = word_file("Contract {{ document.number }}", "Dear {{ client.nme }},", "Thanks.")
    with pytest.raises(ValidationError) as refused:
        word_template(admin, content)
    assert refused.value.message_dict["file"] == [
        "Paragraph 2, position 9: there is no field “client.nme”."
    ]
    unclosed = word_file("Contract", "{% if deal.total %}", "Sum {{ deal.total }}")
    with pytest.raises(ValidationError) as refused:
        word_template(admin, unclosed)
    (problem,) = refused.value.message_dict["file"]
    assert problem.startswith("Paragraph ") and "does not read" in problem
    assert not DocumentTemplate.objects.filter(format="docx").exists()


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.7 a PDF that calls itself contract.docx",
        b"PK\x03\x04 a broken zip",
        b"a zip without a document",
    ],
)
def test_a_file_that_is_not_a_word_document_is_refused(admin, content):
    if content.startswith(b"a zip"):
        stream = io.BytesIO()
        with zipfile.ZipFile(stream, "w") as archive:
            archive.writestr("hello.txt", "hello")
        content = stream.getvalue()
    with pytest.raises(ValidationError) as refused:
        word_template(admin, content)
    assert "not a Word document" in refused.value.message_dict["file"][0]


def test_a_word_file_that_unpacks_to_too_much_is_refused(admin):
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w:document/>")
        archive.writestr("word/media/huge.bin", b"\0" * (101 * 1024 * 1024))
    with pytest.raises(ValidationError) as refused:
        word_template(admin, stream.getvalue())
    assert "more than 100 MB" in refused.value.message_dict["file"][0]


def test_a_word_template_makes_the_deal_s_word_file_and_its_pdf(owner, deal, admin):
    template = word_template(admin, word.example())
    document = document_generate(actor=owner, deal=deal, template=template, language="ru")
    run_worker()
    document.refresh_from_db()
    assert document.state == Document.READY and document.error == ""
    text = word_text(stored(document.docx))
    assert f"Договор № {document.number}" in text
    assert "Window 120×140" in text and "Installation" in text  # a table row per item
    assert "Rosa Bakery" in text and "Okna Plus LLC" in text
    assert "пятьдесят" in text  # the total in words, in the document's language
    pdf = PdfReader(io.BytesIO(stored(document.pdf)))
    printed = "".join(page.extract_text() for page in pdf.pages)
    assert "Rosa Bakery" in printed and "Installation" in printed
    assert document.warnings == ["client.phone", "items.unit", "our_company.signature"]


def test_without_libreoffice_the_document_is_a_word_file_and_says_why(
    owner, deal, admin, manager_client, monkeypatch
):
    mailbox_save(actor=admin, mailbox=None, data={
        "name": "Sales", "address": "sales@okna.example", "smtp_host": "127.0.0.1",
        "smtp_port": 2525, "smtp_security": "none"})  # fmt: skip
    monkeypatch.setattr(word, "office", lambda: None)
    template = word_template(admin, word_file("For {{ client.name }}: {{ deal.total }}"))
    document = document_generate(actor=owner, deal=deal, template=template, language="en")
    run_worker()
    document.refresh_from_db()
    assert document.state == Document.READY and not document.pdf
    assert "LibreOffice is not installed" in document.error
    panel = manager_client.get(f"/documents/deal/{deal.pk}/").content.decode()
    assert "Word only" in panel and document.docx_name in panel
    got = manager_client.get(f"/documents/file/{document.token}/{document.docx_name}")
    assert got["Content-Disposition"].startswith("attachment")
    assert "For Anna Petrova" in word_text(b"".join(got.streaming_content))
    missing_pdf = manager_client.get(f"/documents/file/{document.token}/{document.file_name}")
    assert missing_pdf.status_code == 404
    form = manager_client.get(f"/mail/new/?deal={deal.pk}&document={document.pk}")
    assert document.docx_name in form.content.decode()  # an e-mail sends the Word file


def test_our_logo_is_a_picture_in_the_word_file(owner, deal, admin, admin_client):
    stream = io.BytesIO()
    Image.new("RGB", (200, 80), "teal").save(stream, "PNG")
    form = {"name": "Okna Plus LLC", "country": "RU", "currency": "RUB",
            "time_zone": "Europe/Moscow", "date_format": "d.m.Y", "version": "",
            "logo": SimpleUploadedFile("logo.png", stream.getvalue(), "image/png")}  # fmt: skip
    assert admin_client.post("/settings/company/", form).status_code == 302
    template = word_template(admin, word_file("{{ our_company.logo }}", "{{ deal.title }}"))
    document = document_generate(actor=owner, deal=deal, template=template, language="en")
    run_worker()
    document.refresh_from_db()
    filled = WordDocument(io.BytesIO(stored(document.docx)))
    assert len(filled.inline_shapes) == 1
    assert "Windows for the bakery" in word_text(stored(document.docx))


def test_a_word_template_reaches_nothing_but_its_values(owner, deal, admin, admin_client):
    stream = io.BytesIO()
    Image.new("RGB", (20, 20), "red").save(stream, "PNG")
    form = {"name": "Okna Plus LLC", "country": "RU", "currency": "RUB",
            "time_zone": "Europe/Moscow", "date_format": "d.m.Y", "version": "",
            "logo": SimpleUploadedFile("logo.png", stream.getvalue(), "image/png")}  # fmt: skip
    assert admin_client.post("/settings/company/", form).status_code == 302
    template = word_template(admin, word_file("{{ deal.title }}"))
    # What the check on upload refuses, written past it: the renderer refuses it too.
    for paragraph, refusal in (
        ("{{ our_company.logo.tpl.template_file }}", "unsafe"),
        ("{% for item in items %}{% for x in items %}{{ '#' * 3000000 }}{% endfor %}"
         "{% endfor %}", "grew past"),
    ):  # fmt: skip
        template.file.save("bypass.docx", io.BytesIO(word_file(paragraph)))
        document = document_generate(actor=owner, deal=deal, template=template, language="en")
        run_worker()
        document.refresh_from_db()
        assert document.state == Document.FAILED and refusal in document.error
        assert "bypass.docx" not in document.error


def test_an_admin_uploads_a_word_template_and_tries_it_on_a_deal(deal, admin_client):
    new = admin_client.get("/settings/documents/new/?format=docx").content.decode()
    assert 'type="file"' in new and "/settings/documents/example.docx" in new
    example = admin_client.get("/settings/documents/example.docx")
    content = b"".join(example.streaming_content)
    assert "{{ client.name }}" in word_text(content)
    form = {"name": "Contract in Word", "kind": contract_kind().pk}
    bad = admin_client.post(
        "/settings/documents/new/?format=docx",
        {**form, "file": upload(word_file("{{ deal.sum }}"))},
    )
    assert "there is no field “deal.sum”" in bad.content.decode()
    assert not DocumentTemplate.objects.filter(name="Contract in Word").exists()
    saved = admin_client.post(
        "/settings/documents/new/?format=docx", {**form, "file": upload(content)}
    )
    assert saved.status_code == 302
    template = DocumentTemplate.objects.get(name="Contract in Word")
    assert template.format == "docx" and "{{ deal.title }}" in template.body
    renamed = admin_client.post(saved["Location"], {**form, "name": "Contract (Word)"})
    assert renamed.status_code == 302  # saved without a new file: it keeps the one it has
    template.refresh_from_db()
    assert str(template) == "Contract (Word)" and template.file
    tried = admin_client.post(
        f"/settings/documents/{template.pk}/try/", {"deal": deal.pk, "language": "en"}
    ).content.decode()
    link = tried.split('href="', 1)[1].split('"', 1)[0]
    filled = admin_client.get(link)
    assert "Windows for the bakery" in word_text(b"".join(filled.streaming_content))
    as_pdf = admin_client.get(link.replace("trial.docx", "trial.pdf"))
    assert b"".join(as_pdf.streaming_content).startswith(b"%PDF")
    listed = admin_client.get("/settings/documents/").content.decode()
    assert "Contract (Word)" in listed and f"/settings/documents/{template.pk}/file/" in listed


def test_the_api_uploads_checks_changes_and_hands_word_templates(owner, deal, admin):
    _token, key = token_create(user=admin, name="tests")
    api = ApiClient(key)
    bad = api.post(
        "/api/v1/document-templates/word",
        {"name": "Word", "kind": "contract", "file": upload(word_file("{{ deal.sum }}"))},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {"field": "file", "message": "Paragraph 1, position 4: there is no field “deal.sum”."}
    ]
    unknown = api.post(
        "/api/v1/document-templates/word",
        {"name": "Word", "kind": "poem", "file": upload(word.example())},
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "kind"
    made = api.post(
        "/api/v1/document-templates/word",
        {"name": "Word", "kind": "contract", "file": upload(word.example())},
    )
    assert made.status_code == 201, made.content
    template = made.json()
    assert template["format"] == "docx" and template["file"].endswith("/file")
    assert "{{ deal.title }}" in template["body"]
    stale = api.patch_json(
        made["Location"], {"name": "Renamed"}, HTTP_IF_MATCH=f'W/"{template["id"]}-0"'
    )
    assert stale.status_code == 412
    renamed = api.patch_json(made["Location"], {"name": "Renamed"}, HTTP_IF_MATCH=made["ETag"])
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"
    no_body = api.patch_json(made["Location"], {"body": "<p>{{ deal.title }}</p>"})
    assert no_body.status_code == 422
    replaced = api.post(
        f"{made['Location']}/file", {"file": upload(word_file("Only {{ deal.title }}"))}
    )
    assert replaced.status_code == 200 and replaced.json()["body"] == "Only {{ deal.title }}"
    got = api.get(f"{made['Location']}/file")
    assert word_text(b"".join(got.streaming_content)).strip() == "Only {{ deal.title }}"
    # An HTML template the same way, as JSON.
    html = api.post_json(
        "/api/v1/document-templates",
        {"name": "Short offer", "kind": "offer", "body": "<p>{{ deal.titel }}</p>"},
    )
    assert html.status_code == 422 and "deal.titel" in html.json()["errors"][0]["message"]
    # A manager's token may read the templates in use but change none.
    _token, key = token_create(user=owner, name="tests")
    manager = ApiClient(key)
    assert "Renamed" in [t["name"] for t in manager.get("/api/v1/document-templates").json()]
    assert manager.patch_json(made["Location"], {"retired": True}).status_code == 403
    retired = api.patch_json(made["Location"], {"retired": True})
    assert retired.status_code == 200 and retired.json()["retired"] is True
    assert "Renamed" not in [t["name"] for t in manager.get("/api/v1/document-templates").json()]


def test_the_api_hands_a_word_template_s_document_as_word_and_pdf(owner, deal, admin, api):
    template = word_template(admin, word_file("{{ client.name }}, {{ deal.total }}"))
    made = api.post_json(
        "/api/v1/documents", {"deal": str(deal.pk), "template": str(template.pk)}
    ).json()
    assert made["docx"] is None and made["pdf"] is None
    run_worker()
    ready = api.get(f"/api/v1/documents/{made['id']}").json()
    as_word = api.get(ready["docx"])
    assert "Anna Petrova" in word_text(b"".join(as_word.streaming_content))
    assert b"".join(api.get(ready["pdf"]).streaming_content).startswith(b"%PDF")


def test_a_field_in_the_word_file_s_properties_is_checked_too(admin):
    document = WordDocument()
    document.add_paragraph("{{ deal.title }}")
    document.core_properties.title = "Contract {{ deal.titel }}"
    stream = io.BytesIO()
    document.save(stream)
    with pytest.raises(ValidationError) as refused:
        word_template(admin, stream.getvalue())
    (problem,) = refused.value.message_dict["file"]
    assert problem.startswith("Document properties: ") and "deal.titel" in problem
