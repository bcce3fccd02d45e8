"""Kinds of documents and their templates (Settings → Documents): an admin's edits are
checked before they are kept; the shipped kinds and templates are installed on a new
instance, once."""

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accord.accounts.models import User
from accord.core.visibility import ALL, WRITE, effective_level
from accord.documents import word
from accord.documents.fields import schema
from accord.documents.models import DocumentKind, DocumentTemplate
from accord.documents.rendering import check

SHIPPED = Path(__file__).resolve().parents[1] / "shipped"
SHIPPED_KINDS = [
    ("offer", gettext_noop("Commercial offer"), "CO"),
    ("contract", gettext_noop("Contract"), "CTR"),
    ("invoice", gettext_noop("Invoice"), "INV"),
    ("act", gettext_noop("Act of delivery"), "ACT"),
    ("credit_note", gettext_noop("Credit note"), "CN"),  # billing's correction of an invoice
]


def require_settings(actor: User) -> None:
    if effective_level(actor, "settings", WRITE) != ALL:
        raise PermissionDenied(_("Only administrators change document templates."))


@transaction.atomic
def template_save(
    *, actor: User, data: dict, template: DocumentTemplate | None = None
) -> DocumentTemplate:
    """Keep a template whose every field exists and whose syntax reads; otherwise a
    ValidationError on "body" (HTML) or "file" (Word) with each problem's line or
    paragraph and position. `data["file"]`, a Word file, makes it a Word template."""
    require_settings(actor)
    errors: dict[str, list[str]] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = [_("Name the template.")]
    elif len(name) > 200:
        errors["name"] = [_("At most 200 characters.")]
    kind = data.get("kind") or (template.kind if template else None)
    if not isinstance(kind, DocumentKind) or kind.retired:
        errors["kind"] = [_("Choose the kind of document.")]
    upload = data.get("file")
    in_word = (
        bool(upload)
        or data.get("format") == DocumentTemplate.DOCX
        or (template is not None and template.format == DocumentTemplate.DOCX)
    )
    body, content = _word_text(upload, template, errors) if in_word else _html(data, errors)
    if errors:
        raise ValidationError(errors)
    if template is None:
        template = DocumentTemplate(created_by=actor)
    else:
        template = DocumentTemplate.objects.select_for_update().get(pk=template.pk)
        template.version += 1
    template.name, template.kind, template.body = name, kind, body
    if content is not None:
        _replace_file(template, content, name)
    template.format = DocumentTemplate.DOCX if in_word else DocumentTemplate.HTML
    template.save()
    return template


def _html(data: dict, errors: dict) -> tuple[str, None]:
    body = str(data.get("body") or "")
    if not body.strip():
        errors["body"] = [_("Write the template.")]
    elif len(body) > 200_000:
        errors["body"] = [_("At most 200,000 characters.")]
    else:
        problems = check(body, schema())
        if problems:
            errors["body"] = [str(problem) for problem in problems[:20]]
    return body, None


def _word_text(upload, template, errors: dict) -> tuple[str, bytes | None]:
    """The uploaded Word file's text and bytes, once it reads; a Word template saved
    without a new file keeps the one it has."""
    if not upload:
        if template is None or not template.file:
            errors["file"] = [_("Choose the Word file (.docx).")]
        return (template.body if template else ""), None
    content = upload.read(word.MAX_SIZE + 1) if hasattr(upload, "read") else bytes(upload)
    try:
        return word.read(content, schema()), content
    except ValidationError as error:
        errors["file"] = error.messages
        return "", None


def _replace_file(template: DocumentTemplate, content: bytes, name: str) -> None:
    """The new Word file under a new name; the old one goes once the change is kept
    (a rollback keeps the template as it was, file and all)."""
    old = template.file.name if template.file else ""
    template.file.save(f"{slugify(name)[:60] or 'template'}.docx", ContentFile(content), save=False)
    if old:
        storage = template.file.storage
        transaction.on_commit(lambda: storage.delete(old))


@transaction.atomic
def template_retire(*, actor: User, template: DocumentTemplate, retired: bool = True) -> None:
    """A retired template is no longer offered; documents made from it stay."""
    require_settings(actor)
    DocumentTemplate.objects.filter(pk=template.pk).update(retired=retired)


@transaction.atomic
def kind_save(*, actor: User, data: dict, kind: DocumentKind | None = None) -> DocumentKind:
    """A kind of document the admin adds or renames; its prefix starts its numbers."""
    require_settings(actor)
    errors: dict[str, list[str]] = {}
    name = str(data.get("name") or "").strip()
    prefix = str(data.get("prefix") or "").strip().upper()
    if not name or len(name) > 100:
        errors["name"] = [_("Name the kind of document (at most 100 characters).")]
    if not prefix or len(prefix) > 12 or not prefix.replace("-", "").isalnum():
        errors["prefix"] = [_("A prefix is 1 to 12 letters or digits, such as INV.")]
    if errors:
        raise ValidationError(errors)
    if kind is None:
        position = (DocumentKind.objects.aggregate(n=Max("position"))["n"] or 0) + 1
        code = _free_code(name)
        kind = DocumentKind(code=code, position=position)
    kind.name, kind.prefix = name, prefix
    kind.save()
    return kind


def _free_code(name: str) -> str:
    base = slugify(name)[:24] or "kind"
    code, n = base, 1
    while DocumentKind.objects.filter(code=code).exists():
        n += 1
        code = f"{base}-{n}"
    return code


def shipped_body(code: str) -> str:
    parts = {part: (SHIPPED / f"_{part}.html").read_text() for part in ("style", "head", "items")}
    body = (SHIPPED / f"{code}.html").read_text()
    for part, text in parts.items():
        body = body.replace(f"[[{part}]]", text.strip())
    return body


def ensure_shipped_documents(using: str = "default", **kwargs) -> None:
    """Each shipped kind the instance lacks, with its template (after migrate): kinds are
    never deleted, only retired, so an admin's later edits and retirements are kept."""
    kinds = DocumentKind.objects.using(using)
    have = set(kinds.values_list("code", flat=True))
    for position, (code, name, prefix) in enumerate(SHIPPED_KINDS):
        if code in have:
            continue
        kind = kinds.create(code=code, name=name, prefix=prefix, position=position)
        DocumentTemplate.objects.using(using).create(
            kind=kind, name=name, body=shipped_body(code), shipped=code
        )
