"""Imports: the uploaded file, how its columns map to fields, what a duplicate is and what
to do with one, the progress of the background job, and what it changed (to undo it)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accord.core.custom_fields import active_fields
from accord.transfer.reading import Table


class ImportJob(models.Model):
    NEW, QUEUED, RUNNING, DONE, FAILED, UNDONE = (
        "new", "queued", "running", "done", "failed", "undone",
    )  # fmt: skip
    STATUSES = [
        (NEW, _("Being set up")),
        (QUEUED, _("Waiting to start")),
        (RUNNING, _("Importing")),
        (DONE, _("Done")),
        (FAILED, _("Stopped")),
        (UNDONE, _("Undone")),
    ]
    RECORD_TYPES = [("people", _("People")), ("companies", _("Companies"))]
    MATCH_BY = [
        ("email", _("E-mail")),
        ("phone", _("Phone")),
        ("external_id", _("External id")),
        ("", _("Nothing: every row is new")),
    ]
    SKIP, UPDATE, CREATE = "skip", "update", "create"
    ON_DUPLICATE = [
        (SKIP, _("Skip the row")),
        (UPDATE, _("Update the client")),
        (CREATE, _("Create another client anyway")),
    ]

    record_type = models.CharField(max_length=20, choices=RECORD_TYPES)
    file = models.FileField(upload_to="imports/")
    file_name = models.CharField(max_length=255)
    file_size = models.PositiveBigIntegerField(default=0)
    kind = models.CharField(max_length=4)  # csv, xlsx
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    header = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)  # {"column number": "field"}
    match_by = models.CharField(max_length=20, choices=MATCH_BY, blank=True, default="email")
    on_duplicate = models.CharField(max_length=10, choices=ON_DUPLICATE, default=SKIP)
    # New people without an owner in their row go to this team's lead rule.
    assign_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Off: the imported records' events start no automation rule.
    run_automation = models.BooleanField(default=True)
    # The country phone numbers without a +code are read in, unless a row names its own
    # (a "country" column); "" for the company's default (ACCORD_PHONE_REGION).
    region = models.CharField(max_length=2, blank=True)
    status = models.CharField(max_length=10, choices=STATUSES, default=NEW)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)  # the checkpoint: rows read and saved
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # A big import into a small table sets the table's list indexes aside while it loads
    # and builds them again at its end (after a crash, when the import is resumed).
    indexes_aside = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    beat_at = models.DateTimeField(null=True, blank=True)  # the worker's last checkpoint
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name

    def table(self) -> Table:
        """How the file is read: its kind, encoding and delimiter."""
        return Table(kind=self.kind, encoding=self.encoding, delimiter=self.delimiter)

    def custom_fields(self) -> list:
        """The custom fields a column of the file may fill (a link to a record may not)."""
        kind = "person" if self.record_type == "people" else "company"
        return [f for f in active_fields(kind) if f.type != "record"]

    @property
    def is_active(self) -> bool:
        return self.status in (self.QUEUED, self.RUNNING)

    @property
    def cause(self) -> dict:
        """What its records' events carry (accord.core.events.caused_by): the import, and
        whether they start automation rules."""
        return {"import": self.pk, "automation": self.run_automation}


class ImportChange(models.Model):
    """One record an import created or changed, with what it held before (to undo)."""

    CREATED, UPDATED = "created", "updated"

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="changes")
    action = models.CharField(max_length=10)
    record_id = models.PositiveBigIntegerField()
    row = models.PositiveIntegerField()
    version = models.PositiveIntegerField()  # the record's version right after the import
    before = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["job", "id"], name="import_change_job")]

    def __str__(self) -> str:
        return f"{self.action} {self.record_id}"


class ImportFailure(models.Model):
    """A row that could not be imported, as it was in the file, and why."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="failures")
    row = models.PositiveIntegerField()
    values = models.JSONField(default=list)
    reason = models.TextField()

    class Meta:
        ordering = ["row"]
        indexes = [models.Index(fields=["job", "row"], name="import_failure_job")]

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}"


class ImportWarning(models.Model):
    """A row imported with something kept as typed that the user should look at: a phone
    number that is not valid in the row's country."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="warnings")
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=255)  # the column's title in the file
    value = models.CharField(max_length=255)
    message = models.TextField()

    class Meta:
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["job", "row"], name="import_warning_job")]

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.message}"


class ExportJob(models.Model):
    """A list of clients written to a file for the user who asked, with their visibility."""

    QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
    STATUSES = [
        (QUEUED, _("Waiting to start")),
        (RUNNING, _("Exporting")),
        (DONE, _("Ready")),
        (FAILED, _("Stopped")),
    ]
    FORMATS = [("csv", "CSV"), ("xlsx", "Excel (.xlsx)")]

    record_type = models.CharField(max_length=20, choices=ImportJob.RECORD_TYPES)
    format = models.CharField(max_length=4, choices=FORMATS, default="csv")
    filters = models.JSONField(default=dict, blank=True)
    columns = models.JSONField(null=True, blank=True)  # column keys; null: every field
    status = models.CharField(max_length=10, choices=STATUSES, default=QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="exports/", blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.record_type} {self.format} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.QUEUED, self.RUNNING)

    @property
    def file_name(self) -> str:
        return f"{self.record_type}-{self.created_at:%Y%m%d-%H%M}.{self.format}"


class BackupSchedule(models.Model):
    """When the worker backs up by itself and how many archives it keeps; one row."""

    every_hours = models.PositiveIntegerField(
        _("back up every (hours)"), default=24, help_text=_("0 turns scheduled backups off.")
    )
    keep = models.PositiveIntegerField(_("keep the newest"), default=7)
    requested_at = models.DateTimeField(null=True, blank=True)  # "Back up now"
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return "backup schedule"

    @classmethod
    def current(cls) -> "BackupSchedule":
        return cls.objects.get_or_create(pk=1)[0]
