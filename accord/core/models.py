"""The kernel's tables: base record fields, the timeline, heartbeats, the outbox, the company."""

import threading
import time

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import OperationalError, ProgrammingError, connection, models
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


class CompanyProfile(models.Model):
    """The company using this Accord, one row (pk=1): who it is (its documents print
    these) and where it works — the defaults for phone numbers, money, clocks, language
    and dates that a user's own choices and the operator's ACCORD_* settings fall back on."""

    DATE_FORMATS = [
        ("", _("As the language writes it")),
        ("d.m.Y", "31.12.2026"),
        ("d/m/Y", "31/12/2026"),
        ("m/d/Y", "12/31/2026"),
        ("Y-m-d", "2026-12-31"),
    ]
    WEEK_STARTS = [(0, _("Monday")), (6, _("Sunday")), (5, _("Saturday"))]

    name = models.CharField(_("company name"), max_length=200, blank=True)
    address = models.TextField(_("address"), max_length=500, blank=True)
    tax_id = models.CharField(_("tax id"), max_length=50, blank=True)
    bank_details = models.TextField(_("bank details"), max_length=1000, blank=True)
    logo = models.FileField(_("logo"), upload_to="company/", blank=True)
    signature = models.FileField(_("signature"), upload_to="company/", blank=True)
    stamp = models.FileField(_("stamp"), upload_to="company/", blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    currency = models.CharField(_("main currency"), max_length=3, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    language = models.CharField(_("default language"), max_length=10, blank=True)
    week_start = models.PositiveSmallIntegerField(
        _("first day of the week"), choices=WEEK_STARTS, null=True, blank=True
    )
    date_format = models.CharField(
        _("date format"), max_length=10, choices=DATE_FORMATS, blank=True
    )
    # How soon a client who writes must be answered, in working minutes, per channel
    # ({"email": 240, "telegram": 30}; a channel not named: REPLY_MINUTES's).
    reply_minutes = models.JSONField(_("answer within"), default=dict, blank=True)
    # A channel or campaign whose sales cost more than this (the main currency) is flagged.
    max_cost_per_sale = models.DecimalField(
        _("flag a cost per sale above"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    set_up_at = models.DateTimeField(null=True, blank=True)  # the first step was taken
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    CACHE_KEY = "accord:company-profile"

    def __str__(self) -> str:
        return self.name or "company"

    @classmethod
    def current(cls) -> "CompanyProfile":
        """The profile: this thread's copy for a second (a list's every date cell asks for
        the date format: one cache read, not a Redis round trip each), else the cache."""
        held = getattr(_this_thread, "profile", None)
        if held is not None and held[0] > time.monotonic():
            return held[1]
        profile = cls._cached()
        _this_thread.profile = (time.monotonic() + 1.0, profile)
        return profile

    @classmethod
    def forget(cls) -> None:
        """Drop the copies (after a save): this thread's and the cache's."""
        _this_thread.profile = None
        cache.delete(cls.CACHE_KEY)

    @classmethod
    def _cached(cls) -> "CompanyProfile":
        profile = cache.get(cls.CACHE_KEY)
        if profile is None:
            try:
                profile = cls.objects.filter(pk=1).first() or cls(pk=1)
            except (OperationalError, ProgrammingError):
                if connection.in_atomic_block:
                    raise
                return cls(pk=1)  # no table yet (before the first migrate): the defaults
            # A process's own memory is not told of another's save (the worker, a second
            # web process): there the copy lives seconds, in a shared cache minutes.
            shared = not settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
            seconds = settings.ACCORD_PROFILE_CACHE_SECONDS or (300 if shared else 10)
            cache.set(cls.CACHE_KEY, profile, seconds)
        return profile


_this_thread = threading.local()  # CompanyProfile.current()'s short-lived copy
