"""Communication statistics, kept as daily rollups by the services as messages and calls
come and go (DESIGN.md: "Statistics are computed from the stored messages and calls, kept
in daily rollups by the services, never from provider logs")."""

from django.conf import settings
from django.db import models


class ChannelDay(models.Model):
    """One employee's (or nobody's) traffic on one channel on one day (the company's
    date): messages or calls in and out, the clients' waits they answered and how soon
    — a count per whole working minute, so medians and percentiles over any period are
    exact to the minute — and, for the phone, missed calls and those called back."""

    EMAIL, SMS, TELEGRAM, WHATSAPP, PHONE = "email", "sms", "telegram", "whatsapp", "phone"

    day = models.DateField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField(max_length=10)
    incoming = models.PositiveIntegerField(default=0)
    outgoing = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    # {"12": 3, …}: answers given after this many working minutes (a week and more: the
    # last key, 10080).
    answer_minutes = models.JSONField(default=dict)
    missed = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "user", "channel"], name="channel_day_once"),
            models.UniqueConstraint(
                fields=["day", "channel"],
                condition=models.Q(user=None),
                name="channel_day_nobody_once",
            ),
        ]
        indexes = [models.Index(fields=["user", "day"], name="channel_day_user")]

    def __str__(self) -> str:
        return f"{self.day} {self.user_id} {self.channel}"
