"""Word templates (DOCX): read and checked when uploaded, filled by docxtpl in the same
sandbox as the HTML templates (the same fields, loops and refusals), and printed as PDF by
LibreOffice where the server has it (decision 0005)."""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from docx import Document as WordDocument
from docx.image.exceptions import UnrecognizedImageError
from docx.image.image import Image
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from lxml.etree import XMLSyntaxError

from accord.documents.fields import EMPTY_IS_AN_ANSWER, Schema
from accord.documents.rendering import WORD_ENVIRONMENT, Sealed, check, wrapped

MAX_SIZE = 10 * 1024 * 1024  # bytes of an uploaded Word file
MAX_UNPACKED = 100 * 1024 * 1024  # what its parts may unpack to: a zip bomb stops here
PDF_TIMEOUT = 120  # seconds LibreOffice may take over one document
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Our company's pictures, printed where a template names them ({{ our_company.logo }}).
PICTURES = {"logo": Mm(40), "signature": Mm(35), "stamp": Mm(35)}
_HEADER, _FOOTER = DocxTemplate.HEADER_URI, DocxTemplate.FOOTER_URI
FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
_office = threading.Lock()  # one LibreOffice at a time per process: they share a profile


@dataclass
class Filled:
    docx: bytes
    missing: list[str] = field(default_factory=list)
    pdf: bytes = b""
    pdf_problem: str = ""  # why there is no PDF


class _Picture(Sealed, InlineImage):
    """A picture a Word template prints, opaque to the template (it holds the renderer)."""


def read(content: bytes, schema: Schema) -> str:
    """The text of an uploaded Word template, a paragraph a line, once it is a Word file
    whose fields all exist; otherwise a ValidationError naming each problem's paragraph."""
    template = _open(content)
    problems = []
    for where, xml in _parts(template):
        text = _text(template.patch_xml(xml))
        for problem in check(text, schema)[:20]:
            problem.unit = "paragraph"
            problems.append(f"{where}: {problem}" if where else str(problem))
    if problems:
        raise ValidationError(problems[:20])
    texts = (_text(template.patch_xml(xml)) for _where, xml in _parts(template, shown=True))
    return "\n".join(text for text in texts if text)


def fill(source: Path, values: dict) -> Filled:
    """The Word template at `source` filled with a document's `values`."""
    template = DocxTemplate(str(source))
    missing: set[str] = set()
    context = wrapped(values, missing)
    our = context.get("our_company") or {}
    for name, width in PICTURES.items():
        picture = _picture(values.get("our_company", {}).get(name, ""))
        if picture is not None:
            dict.__setitem__(our, name, _Picture(template, str(picture), width=width))
    template.render(context, jinja_env=WORD_ENVIRONMENT)
    buffer = BytesIO()
    template.save(buffer)
    return Filled(buffer.getvalue(), [n for n in sorted(missing) if n not in EMPTY_IS_AN_ANSWER])


def make(source: Path, values: dict) -> Filled:
    """Filled, and printed as PDF where LibreOffice is installed."""
    filled = fill(source, values)
    try:
        filled.pdf = to_pdf(filled.docx)
    except PdfUnavailable as reason:
        filled.pdf_problem = str(reason)
    return filled


class PdfUnavailable(Exception):
    pass


def office() -> str | None:
    """LibreOffice's program, if the server has it (Debian's libreoffice-writer-nogui)."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(docx: bytes) -> bytes:
    program = office()
    if program is None:
        raise PdfUnavailable(
            _("The server cannot print Word files as PDF: LibreOffice is not installed.")
        )
    # Its own profile per process, in Accord's data folder (not a guessable /tmp path):
    # two LibreOffices on one profile wait for each other.
    profile = Path(settings.DATA_DIR) / "libreoffice" / f"profile-{os.getpid()}"
    with _office, tempfile.TemporaryDirectory(prefix="accord-word-") as folder:
        source = Path(folder) / "document.docx"
        source.write_bytes(docx)
        command = [
            program, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
            "--nologo", "--convert-to", "pdf", "--outdir", folder, str(source),
        ]  # fmt: skip
        ran = _run(command)
        printed = source.with_suffix(".pdf")
        if not printed.is_file():
            reason = ran.stderr.decode(errors="replace").strip()[-300:]
            raise PdfUnavailable(
                _("LibreOffice did not print the PDF: %(reason)s") % {"reason": reason}
            )
        return printed.read_bytes()


def _run(command: list[str]) -> subprocess.CompletedProcess:
    """LibreOffice in a process group of its own: on a timeout the whole group goes (the
    `soffice` script starts `soffice.bin`, which would otherwise hold the profile)."""
    with subprocess.Popen(  # noqa: S603 - our own arguments, no shell
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    ) as process:
        try:
            out, err = process.communicate(timeout=PDF_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise PdfUnavailable(_("LibreOffice took too long to print the PDF.")) from None
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def _open(content: bytes) -> DocxTemplate:
    not_word = _(
        "This is not a Word document (.docx): save it from Word as .docx and upload it again."
    )
    if len(content) > MAX_SIZE:
        raise ValidationError(_("A Word template is at most 10 MB."))
    try:
        with zipfile.ZipFile(BytesIO(content)) as archive:
            if "word/document.xml" not in archive.namelist():
                raise ValidationError(not_word)
            if sum(part.file_size for part in archive.infolist()) > MAX_UNPACKED:
                raise ValidationError(_("This Word file unpacks to more than 100 MB."))
        template = DocxTemplate(BytesIO(content))
        template.init_docx()
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError, XMLSyntaxError):
        raise ValidationError(not_word) from None
    return template


def _parts(template: DocxTemplate, *, shown: bool = False):
    """(where, XML) of what docxtpl fills: the body, each header and footer, and — unless
    only the `shown` text is wanted — the footnotes and the document's properties."""
    yield "", template.get_xml()
    for uri, where in ((_HEADER, _("Header")), (_FOOTER, _("Footer"))):
        for _key, part in template.get_headers_footers(uri):
            yield where, template.get_part_xml(part)
    if shown:
        return
    for part in template.docx.part.package.parts:
        if part.content_type == FOOTNOTES:
            yield _("Footnotes"), part.blob.decode("utf-8", errors="replace")
    properties = template.docx.core_properties
    for name in ("title", "subject", "author", "comments", "identifier", "language"):
        yield _("Document properties"), getattr(properties, name) or ""


def _text(xml: str) -> str:
    """Word's XML as Jinja reads it, a paragraph a line, without the XML: problems are
    then found by paragraph and by position in its text."""
    xml = re.sub(r"<w:p([ >])", r"\n<w:p\1", xml)
    return re.sub(r"<[^>]+>", "", xml).strip("\n")


def _picture(address: str) -> Path | None:
    """One of our company's pictures, as a file Word can hold (PNG, JPEG, GIF, BMP, TIFF)."""
    if not address:
        return None
    path = Path(unquote(urlsplit(address).path)).resolve()
    if not (
        path.is_file() and path.is_relative_to(Path(settings.MEDIA_ROOT).resolve() / "company")
    ):
        return None
    try:
        Image.from_file(str(path))
    except (UnrecognizedImageError, OSError):  # an SVG logo: Word cannot hold it
        return None
    return path


def example(*, rtl: bool = False) -> bytes:
    """A contract in Word with the fields in place, for an admin to start from: its words
    are label fields, so it prints in the document's language; `rtl` lays it out right to
    left (a Hebrew company's)."""
    word = WordDocument()
    word.add_heading("{{ label.contract }} {{ label.number }} {{ document.number }}", level=1)
    word.add_paragraph("{{ document.date }}")
    word.add_heading("{{ label.contract_subject_title }}", level=3)
    word.add_paragraph("{{ label.contract_subject }}")
    word.add_paragraph().add_run("{{ deal.title }}").bold = True
    table = word.add_table(rows=4, cols=5)
    table.style = "Table Grid"
    rows = [
        ["{{ label.item }}", "{{ label.quantity }}", "{{ label.price }}", "{{ label.tax }}",
         "{{ label.total }}"],
        ["{%tr for item in items %}", "", "", "", ""],
        ["{{ item.name }}", "{{ item.quantity }} {{ item.unit }}", "{{ item.price }}",
         "{{ item.tax }}", "{{ item.total }}"],
        ["{%tr endfor %}", "", "", "", ""],
    ]  # fmt: skip
    for row, texts in zip(table.rows, rows, strict=True):
        for cell, text in zip(row.cells, texts, strict=True):
            cell.text = text
    total = word.add_paragraph()
    total.add_run("{{ label.total }}: {{ deal.total }}").bold = True
    word.add_paragraph("{{ label.in_words }}: {{ deal.total_in_words }}")
    for title, text in (
        ("contract_price_title", "contract_price"),
        ("contract_terms_title", "contract_terms"),
    ):
        word.add_heading(f"{{{{ label.{title} }}}}", level=3)
        word.add_paragraph(f"{{{{ label.{text} }}}}")
    word.add_heading("{{ label.contract_parties_title }}", level=3)
    parties = word.add_table(rows=1, cols=2)
    parties.rows[0].cells[0].text = (
        "{{ label.supplier }}\n{{ our_company.name }}\n{{ our_company.address }}\n"
        "{{ label.tax_id }}: {{ our_company.tax_id }}\n{{ our_company.bank_details }}"
    )
    parties.rows[0].cells[1].text = (
        "{{ label.client }}\n{% if company.name %}{{ company.name }}{% else %}{{ client.name }}"
        "{% endif %}\n{{ client.address }}\n{{ client.email }}\n{{ client.phone }}"
    )
    word.add_paragraph("{% if our_company.signature %}{{ our_company.signature }}{% endif %}")
    word.add_paragraph("{{ label.for_seller }} ____________    {{ label.for_buyer }} ____________")
    if rtl:
        _right_to_left(word)
    buffer = BytesIO()
    word.save(buffer)
    return buffer.getvalue()


def _right_to_left(word) -> None:
    body = word.element.body
    for paragraph in body.iter(qn("w:p")):
        paragraph.get_or_add_pPr().append(OxmlElement("w:bidi"))
    for table in body.iter(qn("w:tbl")):
        table.tblPr.append(OxmlElement("w:bidiVisual"))
