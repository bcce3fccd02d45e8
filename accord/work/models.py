"""Tasks (what someone must do, and when), activities (what was done: calls, meetings,
e-mails, notes) and notifications (what Accord tells a user: reminders, overdue work,
escalations)."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accord.core.models import Record

CALL, MEETING, EMAIL, VISIT, OTHER, NOTE = "call", "meeting", "email", "visit", "other", "note"


class Task(Record):
    OPEN, DONE, CANCELLED = "open", "done", "cancelled"
    STATUSES = [(OPEN, _("Open")), (DONE, _("Done")), (CANCELLED, _("Cancelled"))]
    KINDS = [
        (CALL, _("Call")),
        (MEETING, _("Meeting")),
        (EMAIL, _("E-mail")),
        (VISIT, _("Visit")),
        (OTHER, _("Other")),
    ]
    LOW, NORMAL, HIGH = 0, 1, 2
    PRIORITIES = [(LOW, _("Low")), (NORMAL, _("Normal")), (HIGH, _("High"))]

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=KINDS, default=CALL)
    due_at = models.DateTimeField(_("due"))
    all_day = models.BooleanField(_("whole day"), default=False)
    duration_minutes = models.PositiveIntegerField(_("duration, min"), default=0)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    person = models.ForeignKey(
        "contacts.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    company = models.ForeignKey(
        "contacts.Company",
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    deal = models.ForeignKey(
        "sales.Deal",
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    priority = models.PositiveSmallIntegerField(_("priority"), choices=PRIORITIES, default=NORMAL)
    description = models.TextField(_("description"), blank=True, max_length=10_000)
    status = models.CharField(_("status"), max_length=10, choices=STATUSES, default=OPEN)
    result = models.TextField(_("result"), blank=True, max_length=10_000)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    # The deal's fields completing the task fills in (accord.work.asks): "amount",
    # "expected_close_date", "custom_fields.<key>".
    asks = models.JSONField(_("asks for"), default=list, blank=True)
    # Reminders: the lead time chosen, when to remind, and whether it was done (the
    # scheduler claims a task by setting these, so each happens exactly once).
    remind_minutes = models.PositiveIntegerField(_("remind before, min"), null=True, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # all_day too: a team's load (open, today, overdue) is read from the index alone.
            models.Index(
                fields=["assignee", "status", "due_at", "all_day"], name="task_assignee_due"
            ),
            models.Index(fields=["status", "due_at", "id"], name="task_status_due"),
            models.Index(
                fields=["remind_at"],
                name="task_reminder_due",
                condition=Q(status="open", reminded_at__isnull=True, remind_at__isnull=False),
            ),
            models.Index(
                fields=["due_at"],
                name="task_overdue_watch",
                condition=Q(status="open", escalated_at__isnull=True),
            ),
            models.Index(fields=["deal", "status"], name="task_deal_status"),
            models.Index(fields=["person", "status"], name="task_person_status"),
            # A colleague's tasks done in a period (the tasks report), from the index.
            models.Index(fields=["assignee", "status", "completed_at"], name="task_assignee_done"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        """Open and past due (a whole-day task once its day is over)."""
        if self.status != self.OPEN:
            return False
        return self.due_at + timedelta(days=1 if self.all_day else 0) <= timezone.now()


class Activity(models.Model):
    """Something that happened with a client: a call, a meeting, an e-mail sent outside
    Accord, a note. It lands on the timelines of the person, company and deal it names."""

    KINDS = [
        (CALL, _("Call")),
        (MEETING, _("Meeting")),
        (EMAIL, _("E-mail")),
        (VISIT, _("Visit")),
        (NOTE, _("Note")),
    ]
    INBOUND, OUTBOUND = "in", "out"
    DIRECTIONS = [(OUTBOUND, _("Outgoing")), (INBOUND, _("Incoming"))]
    OUTCOMES = [
        ("reached", _("Talked")),
        ("no_answer", _("No answer")),
        ("busy", _("Busy")),
        ("voicemail", _("Left a voicemail")),
        ("wrong_number", _("Wrong number")),
    ]

    kind = models.CharField(_("kind"), max_length=10, choices=KINDS)
    direction = models.CharField(_("direction"), max_length=3, choices=DIRECTIONS, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=OUTCOMES, blank=True)
    duration_minutes = models.PositiveIntegerField(_("duration, min"), default=0)
    text = models.TextField(_("text"), blank=True, max_length=10_000)
    occurred_at = models.DateTimeField(_("when"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    person = models.ForeignKey(
        "contacts.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    company = models.ForeignKey(
        "contacts.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deal = models.ForeignKey(
        "sales.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )

    class Meta:
        indexes = [
            models.Index(fields=["actor", "kind", "occurred_at"], name="activity_actor"),
            # A lead's first call (team performance): found in the index, not the rows.
            models.Index(fields=["person", "kind", "occurred_at"], name="activity_person_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d %H:%M}"


class ActivityDay(models.Model):
    """How many activities of a kind one employee logged on one day (the company's date):
    the reports' counts over months read these, kept by `activity_log` as each is logged
    (activities are never changed after) and rebuilt from the activities after an upgrade
    or a change of the company's time zone (`activity_days_rebuild`)."""

    day = models.DateField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=10)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "actor", "kind"], name="activity_day_once")
        ]
        indexes = [models.Index(fields=["actor", "day"], name="activity_day_actor")]

    def __str__(self) -> str:
        return f"{self.day} {self.actor_id} {self.kind}: {self.count}"


class Notification(models.Model):
    """A message to one user. `key` makes each notice happen once: a second worker, or a
    second pass after downtime, cannot insert the same reminder again."""

    REMINDER, OVERDUE, ESCALATION, ASSIGNED = "reminder", "overdue", "escalation", "assigned"
    LEAD, AUTOMATION, MAILBOX = "lead", "automation", "mailbox"
    KINDS = [
        (REMINDER, _("Reminder")),
        (OVERDUE, _("Overdue")),
        (ESCALATION, _("Escalation")),
        (ASSIGNED, _("Assigned to you")),
        (LEAD, _("New lead")),
        (AUTOMATION, _("Automation")),
        (MAILBOX, _("E-mail")),
    ]

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=12, choices=KINDS)
    key = models.CharField(max_length=100, unique=True)
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    person = models.ForeignKey(
        "contacts.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at", "-id"], name="notification_recent")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class CalendarFeed(models.Model):
    """A user's secret calendar address (.ics): whoever has the link reads the user's
    tasks, so it can be replaced at any time (the old link stops working)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"calendar of {self.user_id}"


class LeadAssignment(models.Model):
    """A new lead handed to a team: whom its rule gave it to, or, while nobody in the team
    is at work, the wait (`user` empty) that the scheduler ends when someone is."""

    person = models.ForeignKey("contacts.Person", on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule = models.CharField(max_length=20)
    received_at = models.DateTimeField(default=timezone.now)
    assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["team", "assigned_at"], name="lead_assignment_team"),
            models.Index(
                fields=["received_at"],
                name="lead_assignment_waiting",
                condition=Q(assigned_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"lead {self.person_id} to {self.user_id}"
