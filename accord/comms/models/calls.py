"""Telephony: the company's PBX or cloud telephony (`Telephony`), whose events arrive by
webhook; the users' extensions on it; each event stored once as it came (`CallEvent`,
keyed by the provider's ids, so a repeat changes nothing); and the calls those events
make (`Call`, one per provider call id, whatever order its events came in)."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accord.core.models import Record


def new_hook_token() -> str:
    return secrets.token_urlsafe(24)


class Telephony(Record):
    """A connection to a PBX: where its events come in (a secret address, and the
    provider's signature checked with the secret), who gets new callers, and how soon
    a missed call must be returned."""

    GENERIC, ZADARMA, TWILIO = "generic", "zadarma", "twilio"
    PROVIDERS = [
        (GENERIC, _("Any PBX (Accord's JSON format)")),
        (ZADARMA, "Zadarma"),
        (TWILIO, "Twilio"),
    ]

    name = models.CharField(_("name"), max_length=100)
    provider = models.CharField(_("provider"), max_length=20, choices=PROVIDERS, default=GENERIC)
    active = models.BooleanField(_("in use"), default=True)
    hook_token = models.CharField(
        max_length=64, unique=True, default=new_hook_token, editable=False
    )
    # A provider's key and secret, sealed (accord.core.secrets): never shown again.
    api_key_sealed = models.TextField(blank=True, editable=False)
    secret_sealed = models.TextField(blank=True, editable=False)
    lead_team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("new callers go to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    callback_minutes = models.PositiveIntegerField(_("call back within, minutes"), default=15)
    last_event_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the worker's pass over its new events was queued (None: none is waiting): the
    # events stored meanwhile wait for that pass instead of queuing one each.
    events_queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    # What the last refused deliveries said (newest first, a few): the admin's page shows it.
    problems = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class Extension(models.Model):
    """A user's extension (internal number) on a PBX: calls to and from it are theirs."""

    telephony = models.ForeignKey(Telephony, on_delete=models.CASCADE, related_name="extensions")
    number = models.CharField(_("extension"), max_length=30)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="extensions"
    )

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["telephony", "number"], name="extension_once"),
        ]

    def __str__(self) -> str:
        return self.number


class CallEvent(models.Model):
    """One event as the provider sent it, stored before anything is done with it: the
    same event again (a retry) finds its key taken and changes nothing; one that could
    not be handled stays pending for the worker's pass."""

    PENDING, DONE, FAILED = "pending", "done", "failed"
    STATES = [(PENDING, _("pending")), (DONE, _("done")), (FAILED, _("failed"))]

    telephony = models.ForeignKey(Telephony, on_delete=models.CASCADE, related_name="events")
    key = models.CharField(max_length=300)  # the provider's ids for this event
    payload = models.JSONField()  # the event as read (the signal the adapter made of it)
    received_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=STATES, default=PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["telephony", "key"], name="call_event_once"),
        ]
        indexes = [
            models.Index(
                fields=["received_at"], name="call_event_pending", condition=Q(state="pending")
            ),
        ]

    def __str__(self) -> str:
        return self.key


class Call(models.Model):
    """A phone call with a client, made of its provider's events (ringing, answered,
    ended, its recording) in whatever order they came."""

    IN, OUT = "in", "out"
    DIRECTIONS = [(IN, _("Incoming")), (OUT, _("Outgoing"))]
    RINGING, TALKING, ENDED, MISSED, NOT_REACHED = (
        "ringing", "talking", "ended", "missed", "not_reached",
    )  # fmt: skip
    STATES = [
        (RINGING, _("ringing")),
        (TALKING, _("talking")),
        (ENDED, _("ended")),
        (MISSED, _("missed")),
        (NOT_REACHED, _("not reached")),
    ]

    telephony = models.ForeignKey(
        Telephony, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    provider_call_id = models.CharField(max_length=200)
    direction = models.CharField(_("direction"), max_length=3, choices=DIRECTIONS)
    state = models.CharField(_("state"), max_length=12, choices=STATES, default=RINGING)
    number = models.CharField(_("number"), max_length=40)  # the client's: E.164 when valid
    line = models.CharField(max_length=40, blank=True)  # ours: the number called or shown
    extension = models.CharField(max_length=30, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("employee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
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
    started_at = models.DateTimeField(_("started"))
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration = models.PositiveIntegerField(_("talk, seconds"), default=0)
    disposition = models.CharField(max_length=40, blank=True)  # the provider's word for the end
    # Where the provider keeps the recording (an address, or its own id): never shown to a
    # browser; Accord fetches it for whoever may see the call.
    recording = models.CharField(max_length=1000, blank=True)
    task = models.ForeignKey(
        "work.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # a missed call's "call back"
    returned_at = models.DateTimeField(null=True, blank=True)  # a missed call called back

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["telephony", "provider_call_id"], name="call_once_per_provider"
            ),
        ]
        indexes = [
            models.Index(fields=["person", "-started_at"], name="call_person"),
            models.Index(fields=["company", "-started_at"], name="call_company"),
            models.Index(fields=["number", "-started_at"], name="call_number"),
            models.Index(fields=["user", "-started_at"], name="call_user"),
            models.Index(fields=["-started_at"], name="call_ringing", condition=Q(state="ringing")),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.number}"

    @property
    def client(self):
        return self.person or self.company
