"""Automation: rules (a trigger, conditions, actions in order), each edit kept as a
version that runs already started go on with, and runs: one rule on one record, with
each step's result, waiting or retrying as rows the worker's scheduler takes up."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Rule(models.Model):
    SUBJECTS = [
        ("person", _("Person")),
        ("company", _("Company")),
        ("deal", _("Deal")),
        ("task", _("Task")),
    ]

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    enabled = models.BooleanField(_("on"), default=False)
    subject = models.CharField(_("record"), max_length=20, choices=SUBJECTS)
    trigger = models.CharField(_("trigger"), max_length=40)
    trigger_options = models.JSONField(default=dict, blank=True)
    conditions = models.JSONField(default=dict, blank=True)  # {"match": "all", "items": [...]}
    actions = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    # Why the rule cannot run (a deleted user, stage or field it names); checked on every
    # save and before each run. Blank when it can.
    broken = models.TextField(blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)  # by the flood guard
    paused_reason = models.TextField(blank=True)
    max_depth = models.PositiveSmallIntegerField(_("rules triggering rules, at most"), default=2)
    flood_limit = models.PositiveSmallIntegerField(
        _("runs on one record per minute, at most"), default=10
    )
    secret = models.CharField(max_length=64, blank=True)  # the inbound webhook's URL part
    blueprint = models.CharField(max_length=40, blank=True)
    next_fire_at = models.DateTimeField(null=True, blank=True)  # time triggers
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["trigger", "subject"], name="rule_trigger",
                         condition=Q(enabled=True)),
            models.Index(fields=["next_fire_at"], name="rule_next_fire",
                         condition=Q(enabled=True)),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.name

    @property
    def can_run(self) -> bool:
        return self.enabled and not self.broken and self.paused_at is None

    def definition(self) -> dict:
        return {
            "subject": self.subject,
            "trigger": self.trigger,
            "trigger_options": self.trigger_options,
            "conditions": self.conditions,
            "actions": self.actions,
        }


class RuleVersion(models.Model):
    """A rule as it was saved: a run follows the version it started with."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "number"], name="rule_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} v{self.number}"


class Run(models.Model):
    QUEUED, RUNNING, WAITING, DONE, FAILED, SKIPPED = (
        "queued", "running", "waiting", "done", "failed", "skipped",
    )  # fmt: skip
    STATUSES = [
        (QUEUED, _("Queued")),
        (RUNNING, _("Running")),
        (WAITING, _("Waiting")),
        (DONE, _("Done")),
        (FAILED, _("Failed")),
        (SKIPPED, _("Skipped")),
    ]

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(RuleVersion, on_delete=models.CASCADE, related_name="runs")
    event = models.CharField(max_length=60)  # what started it
    subject_type = models.CharField(max_length=20, blank=True)
    subject_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=STATUSES, default=QUEUED)
    dry_run = models.BooleanField(default=False)
    depth = models.PositiveSmallIntegerField(default=0)  # a rule's change triggering a rule
    cursor = models.JSONField(default=list)  # the next step: [3] or [2, "then", 0]
    context = models.JSONField(default=dict)  # the trigger's values, what steps made
    due_at = models.DateTimeField(null=True, blank=True)  # when to go on
    wait_started_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)  # of the current step
    claimed_until = models.DateTimeField(null=True, blank=True)  # a worker's lease
    error = models.TextField(blank=True)
    reason = models.TextField(blank=True)  # why it was skipped
    dedupe_key = models.CharField(max_length=100, blank=True)  # once per date, per record
    event_id = models.BigIntegerField(null=True, blank=True)  # the outbox event that started it
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["due_at"], name="run_due",
                         condition=Q(status__in=["queued", "waiting"])),
            models.Index(fields=["subject_type", "subject_id", "-created_at"],
                         name="run_subject"),
            models.Index(fields=["rule", "-created_at"], name="run_rule"),
        ]  # fmt: skip
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "dedupe_key"], name="run_once", condition=~Q(dedupe_key="")
            ),
            # an event dispatched again (at least once) starts each rule once
            models.UniqueConstraint(
                fields=["event_id", "rule"], name="run_once_per_event",
                condition=Q(event_id__isnull=False),
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.rule_id}#{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.QUEUED, self.RUNNING, self.WAITING)

    @property
    def key(self) -> str:
        """What tells the run from any other, written or not yet (a run of an event in a
        batch of the worker's pass is written at the batch's end): its id, else its event
        and rule (one run per event and rule)."""
        return str(self.pk) if self.pk is not None else f"e{self.event_id}r{self.rule_id}"


class RunStep(models.Model):
    """One action of a run, as it went: what it did, or why it failed."""

    DONE, FAILED, SKIPPED, WAITING, DRY = "done", "failed", "skipped", "waiting", "dry"
    STATUSES = [
        (DONE, _("Done")),
        (FAILED, _("Failed")),
        (SKIPPED, _("Skipped")),
        (WAITING, _("Waiting")),
        (DRY, _("Would run")),
    ]

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    path = models.CharField(max_length=60)  # "3", "2.then.0"
    action = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=STATUSES)
    message = models.TextField(blank=True)
    error = models.TextField(blank=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.path}"

    @property
    def number(self) -> str:
        """ "2.1" for the path "1.timeout_steps.0": as the rule's steps are numbered."""
        return ".".join(str(int(part) + 1) for part in self.path.split(".") if part.isdecimal())


class Holiday(models.Model):
    """A day the holiday greeting goes out: to the clients of its country (a client with
    no country counts as the company's), or to everyone when it names none. Every year on
    its month and day, or only in `year` (a holiday that moves: Rosh Hashanah)."""

    name = models.CharField(_("name"), max_length=100)
    country = models.CharField(
        _("country"), max_length=2, blank=True, help_text=_("Empty: every client.")
    )
    month = models.PositiveSmallIntegerField(_("month"))
    day = models.PositiveSmallIntegerField(_("day"))
    year = models.PositiveSmallIntegerField(
        _("only in the year"), null=True, blank=True, help_text=_("Empty: every year.")
    )

    class Meta:
        ordering = ["month", "day", "country", "id"]
        indexes = [models.Index(fields=["month", "day"], name="holiday_day")]

    def __str__(self) -> str:
        return self.name
