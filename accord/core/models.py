"""Base fields every record shares, the timeline table and worker heartbeats."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class Record(models.Model):
    """Base for business records: timestamps, authorship and an optimistic-lock version."""

    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        abstract = True


class TimelineEvent(models.Model):
    """One entry in a record's history: a change of fields, or an activity on it."""

    subject_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    subject_id = models.BigIntegerField()
    kind = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    occurred_at = models.DateTimeField(db_index=True)
    # {"changes": [{"field", "old", "new"}], ...} or what the kind needs.
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["subject_type", "subject_id", "-occurred_at", "-id"],
                name="timeline_subject_recent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.subject_type_id}:{self.subject_id}"


class WorkerHeartbeat(models.Model):
    """The last time each background worker said it is alive (read by /healthz)."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    backend = models.CharField(max_length=100)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.worker_id


class CustomField(models.Model):
    """A field an admin adds to a record type; values live in the record's JSON column."""

    TYPES = [
        ("text", _("Text")),
        ("long_text", _("Long text")),
        ("number", _("Number")),
        ("money", _("Money")),
        ("date", _("Date")),
        ("choice", _("Choice")),
        ("multi_choice", _("Multiple choice")),
        ("boolean", _("Yes / no")),
        ("url", _("Link (URL)")),
        ("record", _("Link to a record")),
    ]

    record_type = models.CharField(_("record type"), max_length=20)  # "person", "company", ...
    key = models.SlugField(_("key"), max_length=50)  # the name in JSON and the API; never changes
    label = models.CharField(_("label"), max_length=100)
    type = models.CharField(_("type"), max_length=20, choices=TYPES)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)  # for money
    help_text = models.CharField(_("help text"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    retired = models.BooleanField(_("retired"), default=False)

    class Meta:
        ordering = ["record_type", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["record_type", "key"], name="custom_field_key_unique")
        ]

    def __str__(self) -> str:
        return self.label


class SearchEntry(models.Model):
    """The text global search matches for one record (PostgreSQL engine; SQLite uses FTS5)."""

    kind = models.CharField(max_length=20)
    record_id = models.BigIntegerField()
    body = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "record_id"], name="search_entry_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.record_id}"


class OutboxEvent(models.Model):
    """A domain event, written in the transaction of the change it announces (the outbox):
    its handlers run from this row at least once — right after the commit, or by the
    worker after a crash, a restart or a restore — and it is marked done in the
    transaction of their work."""

    PENDING, DONE, FAILED = "pending", "done", "failed"
    STATES = [(PENDING, _("Pending")), (DONE, _("Done")), (FAILED, _("Failed"))]

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=60)
    payload = models.JSONField(default=dict)
    cause = models.JSONField(null=True, blank=True)  # the automation run that made it
    occurred_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=STATES, default=PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)  # dispatches begun and committed
    due_at = models.DateTimeField()  # when a pending event may be taken (later after a failure)
    done_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["due_at", "id"], name="outbox_pending",
                         condition=models.Q(state="pending")),
            models.Index(fields=["done_at"], name="outbox_done",
                         condition=models.Q(state="done")),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.name}#{self.pk}"
