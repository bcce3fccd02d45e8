"""Document templates, the numbers each kind of document counts, the documents made from
a deal (each version kept, its PDF a file behind an unguessable link), and the files
attached to a client, a deal or a task."""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accord.core.models import Record


def new_token() -> str:
    return secrets.token_urlsafe(24)


class DocumentKind(models.Model):
    """Commercial offer, contract, invoice, act — and any kind the admin adds. Its prefix
    starts each number ("INV" → INV-2026-0001)."""

    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=30, unique=True)  # "invoice": never changes
    prefix = models.CharField(_("number prefix"), max_length=12)
    position = models.PositiveSmallIntegerField(default=0)
    retired = models.BooleanField(_("retired"), default=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return gettext(self.name)  # the shipped kinds' names are in the catalogues


class DocumentTemplate(Record):
    """HTML with merge fields ({{ deal.title }}, a loop over {{ items }}), rendered in a
    sandbox that sees only the values the document is given — or a Word file (DOCX) with
    the same fields in its text, for companies that keep their contracts in Word."""

    HTML, DOCX = "html", "docx"
    FORMATS = [(HTML, "HTML"), (DOCX, "Word (DOCX)")]

    kind = models.ForeignKey(
        DocumentKind, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="templates"
    )
    name = models.CharField(_("name"), max_length=200)
    format = models.CharField(_("format"), max_length=4, choices=FORMATS, default=HTML)
    # HTML: the template. DOCX: its text, a paragraph a line, as the field check reads it.
    body = models.TextField(_("template"), max_length=200_000)
    file = models.FileField(upload_to="document-templates/", blank=True, max_length=200)
    shipped = models.CharField(max_length=30, blank=True)  # the shipped template it began as
    retired = models.BooleanField(_("retired"), default=False)

    class Meta:
        ordering = ["kind__position", "name", "id"]

    def __str__(self) -> str:
        return gettext(self.name) if self.shipped else self.name


class NumberSequence(models.Model):
    """The last number given to a kind of document in a year: numbers go on from it with
    no gap and never twice, since taking one is part of the document's own transaction."""

    kind = models.ForeignKey(DocumentKind, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "year"], name="number_sequence_kind_year")
        ]

    def __str__(self) -> str:
        return f"{self.kind_id}/{self.year}: {self.last}"


class Document(models.Model):
    """One version of a document made from a deal. Regenerating makes the next version
    under the same number; the earlier ones stay."""

    PENDING, READY, FAILED = "pending", "ready", "failed"
    STATES = [(PENDING, _("Being made")), (READY, _("Ready")), (FAILED, _("Failed"))]

    kind = models.ForeignKey(
        DocumentKind, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="+"
    )
    template = models.ForeignKey(
        DocumentTemplate,
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="documents",
    )
    deal = models.ForeignKey(
        "sales.Deal", null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    person = models.ForeignKey(
        "contacts.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    company = models.ForeignKey(
        "contacts.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    number = models.CharField(_("number"), max_length=40)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    title = models.CharField(_("title"), max_length=300)
    language = models.CharField(_("language"), max_length=10)
    issued_on = models.DateField(_("date"))
    state = models.CharField(max_length=10, choices=STATES, default=PENDING)
    error = models.TextField(blank=True)
    # What the document said: the merge values it was made from, and the fields it lacked.
    values = models.JSONField(default=dict)
    warnings = models.JSONField(default=list, blank=True)
    pdf = models.FileField(upload_to="documents/%Y/%m/", blank=True, max_length=200)
    # A Word template's document: the filled DOCX (its PDF too, where LibreOffice prints it).
    docx = models.FileField(upload_to="documents/%Y/%m/", blank=True, max_length=200)
    token = models.CharField(max_length=40, unique=True, default=new_token)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "number", "version"], name="document_number_version"
            )
        ]
        indexes = [
            models.Index(fields=["deal", "-created_at"], name="document_deal"),
            models.Index(fields=["person", "-created_at"], name="document_person"),
            models.Index(fields=["company", "-created_at"], name="document_company"),
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.number}"

    @property
    def file_name(self) -> str:
        return f"{self.stem}.pdf"

    @property
    def docx_name(self) -> str:
        return f"{self.stem}.docx"

    @property
    def stem(self) -> str:
        return f"{self.number}" + (f"-v{self.version}" if self.version > 1 else "")


class Attachment(models.Model):
    """A file on a client, a deal or a task (exactly one), checked by its content when it
    came, served as a download to whoever may see its record."""

    person = models.ForeignKey(
        "contacts.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    company = models.ForeignKey(
        "contacts.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    deal = models.ForeignKey(
        "sales.Deal", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    task = models.ForeignKey(
        "work.Task", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    file = models.FileField(upload_to="attachments/%Y/%m/", max_length=200)
    name = models.CharField(_("name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    token = models.CharField(max_length=40, unique=True, default=new_token)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(person__isnull=False, company=None, deal=None, task=None)
                    | models.Q(person=None, company__isnull=False, deal=None, task=None)
                    | models.Q(person=None, company=None, deal__isnull=False, task=None)
                    | models.Q(person=None, company=None, deal=None, task__isnull=False)
                ),
                name="attachment_on_one_record",
            )
        ]
        indexes = [
            models.Index(fields=["person", "-created_at"], name="attachment_person"),
            models.Index(fields=["company", "-created_at"], name="attachment_company"),
            models.Index(fields=["deal", "-created_at"], name="attachment_deal"),
            models.Index(fields=["task", "-created_at"], name="attachment_task"),
        ]

    def __str__(self) -> str:
        return self.name
