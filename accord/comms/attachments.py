"""What may be attached to an e-mail to a client: the kinds of files a business sends
(documents, spreadsheets, pictures, text), each recognised by its content — a file's
name says nothing about what it is — and refused with the reason otherwise; and the files
other apps hand to an e-mail by reference (a document's PDF)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MAX_FILES = 20
HEAD = 8192  # bytes read to tell a file's kind

# (first bytes, kind, the file name endings it may have, MIME type). ZIP and OLE hold the
# office formats, so their endings say which one.
SIGNATURES = [
    (b"%PDF-", "pdf", {"pdf"}, "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "png", {"png"}, "image/png"),
    (b"\xff\xd8\xff", "jpeg", {"jpg", "jpeg"}, "image/jpeg"),
    (b"GIF87a", "gif", {"gif"}, "image/gif"),
    (b"GIF89a", "gif", {"gif"}, "image/gif"),
    (b"RIFF", "webp", {"webp"}, "image/webp"),
    (b"PK\x03\x04", "zip", set(), "application/zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole", set(), "application/octet-stream"),
]
ZIP_KINDS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "zip": "application/zip",
}
OLE_KINDS = {"doc": "application/msword", "xls": "application/vnd.ms-excel",
             "ppt": "application/vnd.ms-powerpoint"}  # fmt: skip
TEXT_KINDS = {"txt": "text/plain", "csv": "text/csv", "ics": "text/calendar",
              "vcf": "text/vcard", "": "text/plain"}  # fmt: skip
# Recognised in order to say what a refused file is.
PROGRAMS = [
    (b"MZ", gettext_lazy("a Windows program")),
    (b"\x7fELF", gettext_lazy("a Linux program")),
    (b"\xcf\xfa\xed\xfe", gettext_lazy("a macOS program")),
    (b"#!", gettext_lazy("a script")),
]


@dataclass(frozen=True)
class Checked:
    name: str
    content_type: str
    size: int


def check_files(files: list) -> list[Checked]:
    """Each uploaded file (Django's UploadedFile or anything with .name, .size, .read and
    .seek) checked; a ValidationError on "attachments" names every file refused and why."""
    problems: list[str] = []
    if len(files) > MAX_FILES:
        problems.append(_("Attach at most %(count)s files.") % {"count": MAX_FILES})
    limit = settings.ACCORD_EMAIL_ATTACHMENTS_MB * 1024 * 1024
    total = sum(upload.size for upload in files)
    if total > limit:
        problems.append(
            _(
                "Together the attachments weigh %(size)s: over the %(limit)s MB one e-mail "
                "may carry."
            )
            % {"size": filesizeformat(total), "limit": settings.ACCORD_EMAIL_ATTACHMENTS_MB}
        )
    checked = []
    for upload in files:
        upload.seek(0)
        head = upload.read(HEAD)
        upload.seek(0)
        name = safe_name(upload.name)
        content_type, problem = kind_of(name, head)
        if problem:
            problems.append(
                _("“%(name)s” is refused: %(reason)s") % {"name": name, "reason": problem}
            )
        elif upload.size == 0:
            problems.append(_("“%(name)s” is empty.") % {"name": name})
        else:
            checked.append(Checked(name, content_type, upload.size))
    if problems:
        raise ValidationError({"attachments": problems})
    return checked


def kind_of(name: str, head: bytes) -> tuple[str, str]:
    """(MIME type, "") of an allowed file, or ("", the reason it is refused)."""
    ending = name.rpartition(".")[2].lower() if "." in name else ""
    for magic, described in PROGRAMS:
        if head.startswith(magic):
            return "", _("it is %(kind)s, which mail servers and clients refuse.") % {
                "kind": described
            }
    for magic, kind, endings, mime in SIGNATURES:
        if not head.startswith(magic) or (kind == "webp" and head[8:12] != b"WEBP"):
            continue
        if kind == "zip":
            return _known(ending, ZIP_KINDS, _("a ZIP archive"))
        if kind == "ole":
            return _known(ending, OLE_KINDS, _("an old Office document"))
        if ending not in endings:
            return "", _("its content is %(kind)s, but its name ends in “.%(ending)s”.") % {
                "kind": kind.upper(),
                "ending": ending,
            }
        return mime, ""
    if _is_text(head):
        return _known(ending, TEXT_KINDS, _("text"))
    return "", _(
        "its kind is not one Accord sends (documents, spreadsheets, presentations, "
        "PDF, pictures, text)."
    )


def _known(ending: str, kinds: dict[str, str], described: str) -> tuple[str, str]:
    if ending in kinds:
        return kinds[ending], ""
    return "", _("its content is %(kind)s, but its name ends in “.%(ending)s”.") % {
        "kind": described,
        "ending": ending,
    }


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start >= len(head) - 3  # a character cut at the end of the head
    return True


def safe_name(name: str) -> str:
    """A file name as a header may carry it: no folders, no line breaks, not too long."""
    name = name.replace("\\", "/").rpartition("/")[2]
    name = "".join(ch for ch in name if ch >= " " and ch != "\x7f").strip() or "attachment"
    if len(name) > 150:
        stem, dot, ending = name.rpartition(".")
        name = (stem[: 140 - len(ending)] + dot + ending) if dot else name[:150]
    return name


@dataclass(frozen=True)
class Offered:
    """A file another app hands to the e-mail by reference (a document's PDF): its name,
    bytes and the subject it suggests."""

    name: str
    content: bytes
    subject: str = ""

    def upload(self):
        return SimpleUploadedFile(self.name, self.content)


# Files other apps attach by reference: the compose screen's `?document=12` asks the
# app registered under "document" for the file (None: not one the user may see). The
# apps above comms fill this in; comms cannot import them.
ATTACHABLE: dict[str, Callable[[Any, str], Offered | None]] = {}


def offered_files(user, source) -> dict[str, list[tuple[str, Offered]]]:
    """The files `source` (a request's GET or POST) names by reference, per kind: each
    (the reference, the file). A reference the user may not see is a 404."""
    found: dict[str, list[tuple[str, Offered]]] = {}
    for kind, fetch in ATTACHABLE.items():
        for reference in source.getlist(kind)[:MAX_FILES]:
            offered = fetch(user, reference)
            if offered is None:
                raise Http404
            found.setdefault(kind, []).append((reference, offered))
    return found
