"""Messengers and SMS: a company's connection to Telegram, WhatsApp or an SMS gateway
(`Messenger`), whose messages arrive by webhook; each delivery stored once as it came
(`ChatEvent`, keyed by the provider's ids, so a repeat changes nothing); and who is who
on it (`ChatContact`: a Telegram chat or a phone number, and the client it is).

The messages themselves are `Message` rows of a conversation, like e-mail: a message to
send is a row first (queued), then the worker sends it through the provider."""

import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accord.core.models import Record


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Messenger(Record):
    """A connection to a messenger or an SMS gateway: the secret address its deliveries
    come to (the provider's signature checked with the secret), the keys to send with,
    who gets the clients who write first, and how soon they must be answered."""

    TELEGRAM, WHATSAPP, SMS_GATEWAY, TWILIO_SMS = "telegram", "whatsapp", "sms", "twilio_sms"
    PROVIDERS = [
        (TELEGRAM, "Telegram"),
        (WHATSAPP, "WhatsApp"),
        (SMS_GATEWAY, _("SMS through any HTTP gateway")),
        (TWILIO_SMS, _("SMS through Twilio")),
    ]
    GET, POST_FORM, POST_JSON = "get", "form", "json"
    GATEWAY_METHODS = [
        (POST_JSON, _("POST, a JSON body")),
        (POST_FORM, _("POST, a form body")),
        (GET, _("GET, the fields in the address")),
    ]

    name = models.CharField(_("name"), max_length=100)
    provider = models.CharField(_("provider"), max_length=20, choices=PROVIDERS)
    active = models.BooleanField(_("in use"), default=True)
    hook_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    # The key Accord sends with (a bot's token, WhatsApp's access token, Twilio's auth
    # token, a gateway's key) and the secret deliveries are signed with (WhatsApp's app
    # secret, a gateway's signing secret), sealed (accord.core.secrets): never shown again.
    # Telegram's secret and WhatsApp's verify token are Accord's own (`webhook_secret`).
    token_sealed = models.TextField(blank=True, editable=False)
    secret_sealed = models.TextField(blank=True, editable=False)
    webhook_secret = models.CharField(max_length=64, default=new_token, editable=False)
    # WhatsApp's phone number id; Twilio's account SID.
    account = models.CharField(_("account"), max_length=100, blank=True)
    # The number or name messages go out from (an SMS sender; Twilio's number).
    sender = models.CharField(_("sender"), max_length=40, blank=True)
    gateway_url = models.CharField(_("gateway address"), max_length=2000, blank=True)
    gateway_method = models.CharField(
        _("how to call it"), max_length=5, choices=GATEWAY_METHODS, default=POST_JSON
    )
    gateway_body = models.TextField(_("what to send"), blank=True)
    # WhatsApp's approved templates, offered outside the 24-hour window: [{"name", "language"}].
    templates = models.JSONField(default=list, blank=True)
    lead_team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("new clients go to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_event_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A worker's pass over the new deliveries is queued (a burst of them queues one).
    events_queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    webhook_set_at = models.DateTimeField(null=True, blank=True, editable=False)
    # What the last refused deliveries and failed sends said (newest first, a few).
    problems = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def channel(self) -> str:
        """The conversation channel its messages are in: telegram, whatsapp or sms."""
        return self.provider if self.provider in (self.TELEGRAM, self.WHATSAPP) else "sms"

    @property
    def is_sms(self) -> bool:
        return self.channel == "sms"


class ChatEvent(models.Model):
    """One delivery as the provider sent it (a message, a delivery report), stored before
    anything is done with it: the same one again finds its key taken and changes nothing;
    one that could not be handled stays pending for the worker's pass."""

    PENDING, DONE, FAILED = "pending", "done", "failed"
    STATES = [(PENDING, _("pending")), (DONE, _("done")), (FAILED, _("failed"))]

    messenger = models.ForeignKey(Messenger, on_delete=models.CASCADE, related_name="events")
    key = models.CharField(max_length=300)
    payload = models.JSONField()  # the delivery as read (the signal the adapter made of it)
    received_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=STATES, default=PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["messenger", "key"], name="chat_event_once"),
        ]
        indexes = [
            models.Index(
                fields=["received_at"], name="chat_event_pending", condition=Q(state="pending")
            ),
        ]

    def __str__(self) -> str:
        return self.key


class ChatContact(models.Model):
    """Who writes from a chat or a number on a connection: the client it was matched to or
    made for, so the next message finds them (a Telegram chat has no phone number)."""

    messenger = models.ForeignKey(Messenger, on_delete=models.CASCADE, related_name="contacts")
    address = models.CharField(max_length=100)  # a chat id, or a number in E.164
    name = models.CharField(max_length=200, blank=True)  # as the messenger shows them
    person = models.ForeignKey(
        "contacts.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    company = models.ForeignKey(
        "contacts.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["messenger", "address"], name="chat_contact_once"),
        ]
        indexes = [models.Index(fields=["person"], name="chat_contact_person")]

    def __str__(self) -> str:
        return self.address
