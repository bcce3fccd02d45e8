"""Dashboards a user builds: widgets, each a report drawn one way (a number with its
trend, a line, bars, a funnel, a table) over a named period, for a pipeline, a team or
one colleague. The figures are always the reader's: a dashboard shared with everyone
shows each reader what their own visibility allows."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accord.reports.periods import PRESETS

CHARTS = [
    ("number", _("A number with its trend")),
    ("line", _("Line")),
    ("bar", _("Bars")),
    ("funnel", _("Funnel")),
    ("table", _("Table")),
]


class Dashboard(models.Model):
    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dashboards"
    )
    shared = models.BooleanField(
        _("everyone may open it"),
        default=False,
        help_text=_("Each reader sees the figures their own access allows."),
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Widget(models.Model):
    HALF, FULL = "half", "full"
    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="widgets")
    report = models.CharField(_("report"), max_length=40)
    chart = models.CharField(_("shown as"), max_length=10, choices=CHARTS)
    title = models.CharField(_("title"), max_length=100, blank=True)
    period = models.CharField(_("period"), max_length=20, choices=PRESETS, default="last_90")
    pipeline = models.ForeignKey(
        "sales.Pipeline",
        verbose_name=_("pipeline"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("colleague"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    wide = models.BooleanField(_("full width"), default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title or self.report


class Schedule(models.Model):
    """A dashboard e-mailed as a PDF on a schedule to a colleague or everyone in a role;
    each recipient's copy holds the figures their own access allows."""

    DAILY, WEEKLY, MONTHLY = "daily", "weekly", "monthly"
    FREQUENCIES = [(DAILY, _("Every day")), (WEEKLY, _("Every week")),
                   (MONTHLY, _("Every month"))]  # fmt: skip
    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="schedules")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("to a colleague"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    role = models.ForeignKey(
        "accounts.Role",
        verbose_name=_("to everyone in a role"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    frequency = models.CharField(_("how often"), max_length=10, choices=FREQUENCIES, default=WEEKLY)
    weekday = models.PositiveSmallIntegerField(_("day of the week"), default=0)  # 0: Monday
    day = models.PositiveSmallIntegerField(_("day of the month"), default=1)  # 1–28
    hour = models.PositiveSmallIntegerField(_("hour"), default=8)
    next_at = models.DateTimeField()
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_problem = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["next_at", "id"]
        indexes = [models.Index(fields=["next_at"], name="report_schedule_due")]

    def __str__(self) -> str:
        return f"{self.dashboard}: {self.frequency}"


class WinModel(models.Model):
    """The win probability learned from the company's closed deals: a logistic regression
    over each deal's features, kept with how well it told won from lost on deals it was
    not trained on (the area under the ROC curve), or why there is none yet."""

    DEAL, LEAD = "deal", "lead"  # a deal's chance to be won, a lead's to become a client
    kind = models.CharField(max_length=4, default=DEAL)
    trained_at = models.DateTimeField()
    won = models.PositiveIntegerField(default=0)
    lost = models.PositiveIntegerField(default=0)
    # {"names": […], "weights": […], "bias": b, "means": […], "scales": […]}
    weights = models.JSONField(default=dict)
    auc = models.FloatField(null=True, blank=True)
    seconds = models.FloatField(default=0)
    problem = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-trained_at", "-id"]

    def __str__(self) -> str:
        return f"{self.trained_at:%Y-%m-%d}: {self.won}/{self.lost}"


class ForecastSnapshot(models.Model):
    """The forecast as it stood when a quarter began (or when Accord first ran in it): the
    open deals expected to close in the quarter, to compare with what the quarter won."""

    quarter = models.DateField(unique=True)  # its first day
    taken_at = models.DateTimeField()
    deals = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-quarter"]

    def __str__(self) -> str:
        return f"{self.quarter}: {self.deals}"


class ForecastEntry(models.Model):
    """One open deal as the snapshot counted it: its sum, its stage's probability and its
    learned chance then (the deal itself moves on)."""

    snapshot = models.ForeignKey(ForecastSnapshot, on_delete=models.CASCADE, related_name="entries")
    deal = models.ForeignKey("sales.Deal", on_delete=models.CASCADE, related_name="+")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    probability = models.PositiveSmallIntegerField()  # the stage's, in %
    learned = models.FloatField(null=True, blank=True)  # 0–1, when one was learned

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "deal"], name="forecast_entry_once")
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id}: {self.deal_id}"
