"""Mailboxes (where e-mail is sent from and, later, fetched), conversations with a client
and the messages in them, with their attachments.

A message is one row whatever its direction: an outgoing one is a row before it is sent
(queued, with an idempotency key), so the worker that sends it can be killed at any point
and nothing is sent twice; an incoming one (the next part: IMAP) is stored once, keyed by
its Message-ID, however many mailboxes receive it. Messages hang off a conversation per
client, which replies join.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from accord.core.models import Record

NONE, STARTTLS, TLS = "none", "starttls", "tls"
SECURITY = [(STARTTLS, "STARTTLS"), (TLS, "TLS"), (NONE, _("None"))]


class Mailbox(Record):
    """An address Accord writes from: shared (sales@, anyone may send from it) or one
    user's own. Passwords are kept sealed (accord.core.secrets), never shown again."""

    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("belongs to"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="mailboxes",
        help_text=_("Empty: a shared mailbox everyone may send from."),
    )
    from_name = models.CharField(_("sender name"), max_length=100, blank=True)
    address = models.EmailField(_("address"), max_length=254)
    is_default = models.BooleanField(
        _("the company's default"),
        default=False,
        help_text=_("Automation rules send from it unless a rule names another mailbox."),
    )
    active = models.BooleanField(_("in use"), default=True)
    # Mailings send at most this many messages a minute from the mailbox (shared mail
    # providers cap a mailbox at a few hundred or thousand a day); 0: no limit.
    per_minute = models.PositiveIntegerField(
        _("mailing messages per minute"),
        default=120,
        help_text=_("Mailings send at most this many a minute from this mailbox; 0: no limit."),
    )
    # The throttle's current minute: when it began and how many went out in it.
    window_start = models.DateTimeField(null=True, blank=True, editable=False)
    window_count = models.PositiveIntegerField(default=0, editable=False)

    smtp_host = models.CharField(_("SMTP server"), max_length=255)
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=587)
    smtp_security = models.CharField(
        _("SMTP security"), max_length=10, choices=SECURITY, default=STARTTLS
    )
    smtp_username = models.CharField(_("SMTP user name"), max_length=255, blank=True)
    smtp_password_sealed = models.TextField(blank=True, editable=False)

    imap_host = models.CharField(_("IMAP server"), max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_security = models.CharField(
        _("IMAP security"), max_length=10, choices=SECURITY, default=TLS
    )
    imap_username = models.CharField(_("IMAP user name"), max_length=255, blank=True)
    imap_password_sealed = models.TextField(blank=True, editable=False)
    imap_folder = models.CharField(_("IMAP folder"), max_length=255, default="INBOX")

    # What the sending worker last saw: its last success, and its last failure in words.
    last_sent_at = models.DateTimeField(_("last sent"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)

    # What the fetching worker keeps (accord/comms/fetching.py): where it is in the folder
    # (the folder's UIDVALIDITY and the highest UID taken), its last run, its last failure
    # in words, when it tries again (back-off), and what it could not read well.
    sync_uidvalidity = models.BigIntegerField(null=True, blank=True, editable=False)
    sync_last_uid = models.BigIntegerField(default=0, editable=False)
    synced_at = models.DateTimeField(_("last fetched"), null=True, blank=True, editable=False)
    sync_fetched_total = models.PositiveIntegerField(default=0, editable=False)
    sync_fetched_last = models.PositiveIntegerField(default=0, editable=False)
    sync_error = models.TextField(blank=True, editable=False)
    sync_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    sync_failures = models.PositiveIntegerField(default=0, editable=False)
    sync_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    sync_claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    sync_problems = models.JSONField(default=list, blank=True, editable=False)
    # The folder the user's mail program keeps what it sends in (found by its SPECIAL-USE
    # flag \Sent, else by its usual names; "" when it has none), fetched as the one above:
    # what a user writes to a client from their mail program reaches Accord too.
    sent_folder = models.CharField(max_length=255, blank=True, editable=False)
    sent_uidvalidity = models.BigIntegerField(null=True, blank=True, editable=False)
    sent_last_uid = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("address"), name="mailbox_address_unique"),
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="mailbox_one_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    @property
    def is_shared(self) -> bool:
        return self.owner_id is None

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2].lower()

    @property
    def receives(self) -> bool:
        return bool(self.imap_host and self.imap_username)


class Conversation(models.Model):
    """The messages with one client on one subject, newest last: a new message from
    Accord starts one; replies — written in Accord or fetched over IMAP — join it.

    What the Inbox sorts and counts by is kept here by the services as messages join
    (`services/threads.py`): the count, whether the client waits for an answer (the last
    message came in), when the last one came in, and who answers it."""

    EMAIL, SMS, TELEGRAM, WHATSAPP = "email", "sms", "telegram", "whatsapp"
    CHANNELS = [(EMAIL, _("E-mail")), (SMS, "SMS"), (TELEGRAM, "Telegram"), (WHATSAPP, "WhatsApp")]

    channel = models.CharField(max_length=10, choices=CHANNELS, default=EMAIL)
    # A messenger's or an SMS conversation: the connection it runs on and the client's chat
    # id or number there, where replies go.
    messenger = models.ForeignKey(
        "Messenger", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    address = models.CharField(max_length=100, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    person = models.ForeignKey(
        "contacts.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    company = models.ForeignKey(
        "contacts.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deal = models.ForeignKey(
        "sales.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    last_message_at = models.DateTimeField()
    # Who answers it: the client's owner when it starts; anyone who may see it reassigns.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    message_count = models.PositiveIntegerField(default=0)
    # The last message came in: the client waits for an answer.
    awaiting_reply = models.BooleanField(default=False)
    # Null until the client writes: only such conversations are in the Inbox.
    last_incoming_at = models.DateTimeField(null=True, blank=True)
    # Since when the client waits for an answer (their first message after our last one;
    # null once answered): the first-answer clock. When it ran out, and who was told.
    waiting_since = models.DateTimeField(null=True, blank=True)
    # When the answer is due (the channel's target in the assignee's working minutes after
    # `waiting_since`), worked out by the worker's pass; and when it ran out.
    reply_due_at = models.DateTimeField(null=True, blank=True)
    reply_late_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["person", "-last_message_at"], name="conversation_person"),
            models.Index(fields=["company", "-last_message_at"], name="conversation_company"),
            models.Index(fields=["deal", "-last_message_at"], name="conversation_deal"),
            models.Index(
                fields=["-awaiting_reply", "-last_message_at", "-id"],
                name="conversation_inbox",
                condition=Q(last_incoming_at__isnull=False),
            ),
            models.Index(
                fields=["assignee", "-awaiting_reply", "-last_message_at", "-id"],
                name="conversation_assignee",
                condition=Q(last_incoming_at__isnull=False),
            ),
            # The Inbox of one channel: a channel with few conversations among many (one
            # just connected) would else read the whole of `conversation_inbox` for a page.
            models.Index(
                fields=["channel", "-awaiting_reply", "-last_message_at", "-id"],
                name="conversation_channel",
                condition=Q(last_incoming_at__isnull=False),
            ),
            models.Index(
                fields=["waiting_since"],
                name="conversation_waiting",
                condition=Q(waiting_since__isnull=False, reply_due_at__isnull=True),
            ),
            models.Index(
                fields=["reply_due_at"],
                name="conversation_reply_due",
                condition=Q(reply_due_at__isnull=False, reply_late_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.subject or f"conversation {self.pk}"

    @property
    def title(self) -> str:
        """What the Inbox calls it: an e-mail's subject; an SMS or messenger chat's client
        as they are named now (renamed since the chat began), else its first title."""
        if self.messenger_id is not None and (self.person_id or self.company_id):
            return str(self.person or self.company)
        return self.subject

    @property
    def client(self):
        """The person or company it is with (a deal's, for one about a deal only)."""
        if self.person_id or self.company_id:
            return self.person or self.company
        return (self.deal.person or self.deal.company) if self.deal_id else None


class ConversationRead(models.Model):
    """Up to when one user has read a conversation: its incoming messages after that are
    unread for them (each user reads for themselves)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "conversation"], name="conversation_read_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.conversation_id} at {self.read_at}"


class Message(models.Model):
    """One e-mail, sent or to be sent (and, later, received). The worker takes a queued
    one by setting it `sending` before it talks to the server (one process wins), so a
    crash never sends it twice: at most once (docs/architecture.md, "Sending e-mail")."""

    OUT, IN = "out", "in"
    DIRECTIONS = [(OUT, _("Outgoing")), (IN, _("Incoming"))]
    QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
    RECEIVED, BOUNCED, DELIVERED, READ = "received", "bounced", "delivered", "read"
    STATES = [
        (QUEUED, _("Queued")),
        (SENDING, _("Sending")),
        (SENT, _("Sent")),
        (DELIVERED, _("Delivered")),
        (READ, _("Read")),
        (FAILED, _("Failed")),
        (BOUNCED, _("Bounced")),
        (RECEIVED, _("Received")),
    ]
    # What a received message is: a client's (or an unknown sender's) mail, or none of
    # theirs — a copy of our own, an automatic reply, a delivery report (bounce).
    CLIENT, OWN, AUTO_REPLY, BOUNCE = "", "own", "auto", "bounce"
    KINDS = [
        (CLIENT, _("Mail")),
        (OWN, _("Our own")),
        (AUTO_REPLY, _("Automatic reply")),
        (BOUNCE, _("Delivery report")),
    ]

    direction = models.CharField(max_length=3, choices=DIRECTIONS, default=OUT)
    state = models.CharField(_("state"), max_length=10, choices=STATES, default=QUEUED)
    # The RFC 5322 Message-ID ("<…@domain>"): one row per message, whatever fetched it.
    message_id = models.CharField(max_length=255, unique=True)
    # Who asked for it, once: a retried click, API call or rule step finds the first row.
    idempotency_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    # A messenger's or an SMS message (none: an e-mail): the connection it came or goes by,
    # the provider's own id for it (a delivery report names it), and when it was delivered.
    messenger = models.ForeignKey(
        "Messenger", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    provider_id = models.CharField(max_length=200, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    person = models.ForeignKey(
        "contacts.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    company = models.ForeignKey(
        "contacts.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deal = models.ForeignKey(
        "sales.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule_name = models.CharField(max_length=200, blank=True)  # written by an automation rule
    marketing = models.BooleanField(default=False)
    mailing = models.ForeignKey(
        "Mailing", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    from_name = models.CharField(max_length=100, blank=True)
    from_address = models.CharField(max_length=254)
    to = models.JSONField(default=list)  # ["a@example.com", ...]
    cc = models.JSONField(default=list, blank=True)
    bcc = models.JSONField(default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=300)
    html = models.TextField(blank=True)  # sanitised (nh3) when stored
    text = models.TextField(blank=True)  # the plain-text part
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    kind = models.CharField(max_length=6, choices=KINDS, default=CLIENT, blank=True)
    # What could not be read or kept of a received message (a refused attachment, a broken
    # part, an unknown charset), in words, a line each.
    problems = models.TextField(blank=True)
    size = models.PositiveIntegerField(default=0)  # a received message's raw size, in bytes

    created_at = models.DateTimeField(db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)  # tries begun
    due_at = models.DateTimeField(null=True, blank=True)  # when a queued one may be taken
    claim = models.CharField(max_length=32, blank=True)  # the worker's pass that took it
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)  # the last failure, with the server's own answer
    # Failed at a moment the server may have taken it (the connection broke while it went
    # over, a worker died while sending): a person checks before sending it again.
    maybe_sent = models.BooleanField(default=False)
    # Sent from a template that tracks opens and clicks (accord/comms/tracking.py): the
    # copy that goes out carries a pixel and redirected links; these count what came back.
    tracked = models.BooleanField(default=False)
    opened_at = models.DateTimeField(null=True, blank=True)  # the first time
    opens = models.PositiveIntegerField(default=0)
    clicked_at = models.DateTimeField(null=True, blank=True)  # the first time
    clicks = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["due_at", "id"], name="message_due", condition=Q(state="queued")),
            models.Index(
                fields=["claimed_at"], name="message_sending", condition=Q(state="sending")
            ),
            models.Index(fields=["person", "-created_at", "-id"], name="message_person"),
            models.Index(fields=["company", "-created_at", "-id"], name="message_company"),
            models.Index(fields=["deal", "-created_at", "-id"], name="message_deal"),
            models.Index(
                fields=["mailbox", "-created_at"],
                name="message_unmatched",
                condition=Q(direction="in", person=None, company=None, kind=""),
            ),
            models.Index(fields=["conversation", "created_at", "id"], name="message_thread"),
            models.Index(
                fields=["messenger", "provider_id"],
                name="message_provider_id",
                condition=~Q(provider_id=""),
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def recipients(self) -> list[str]:
        return [*self.to, *self.cc, *self.bcc]

    @property
    def can_retry(self) -> bool:
        return self.direction == self.OUT and self.state == self.FAILED


class MessageCopy(models.Model):
    """Where a fetched message lies in a mailbox: one row per (mailbox, folder, the
    folder's UIDVALIDITY, UID). Two mailboxes that receive the same message, one fetched
    again, or one both in the inbox and in the sent folder add a copy, never a second
    message."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="copies")
    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="copies")
    folder = models.CharField(max_length=255, default="INBOX")
    uidvalidity = models.BigIntegerField()
    uid = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "folder", "uidvalidity", "uid"], name="message_copy_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.mailbox_id}/{self.folder}/{self.uidvalidity}/{self.uid}"


class BouncingAddress(models.Model):
    """An address a mail server said does not exist (a hard bounce, status 5.x.x): mailings
    skip it (`queries.bouncing`). One row per lower-cased address, the last report kept."""

    address = models.CharField(max_length=254, unique=True)
    status = models.CharField(max_length=20)
    reason = models.TextField(blank=True)
    bounced_at = models.DateTimeField()
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return self.address


class Attachment(models.Model):
    """A file sent with (or, later, received in) a message; served only to those who may
    see the message."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="mail/%Y/%m/")
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def stored(self) -> bool:
        """Whether its file is still on the disk (a restore without the files folder, or a
        disk cleaned by hand, leaves the row without it)."""
        return bool(self.file) and self.file.storage.exists(self.file.name)


class EmailTemplate(Record):
    """A ready e-mail (subject and rich text with merge fields) with a variant per
    language; written by hand from it, sent by automation rules and by mailings."""

    name = models.CharField(_("name"), max_length=100)
    subject = models.CharField(_("subject"), max_length=300)
    html = models.TextField(_("text"), blank=True)  # sanitised (nh3) when saved
    text = models.TextField(blank=True)  # the plain-text part, derived from the HTML
    # {"ru": {"subject": "…", "html": "…", "text": "…"}, …}: the reader's language picks.
    variants = models.JSONField(default=dict, blank=True)
    marketing = models.BooleanField(
        _("marketing"),
        default=False,
        help_text=_(
            "Offers and news: sent only to clients who agreed and did not unsubscribe, "
            "always with an unsubscribe link."
        ),
    )
    tracked = models.BooleanField(
        _("track opens and clicks"),
        default=False,
        help_text=_(
            "Messages from this template carry an invisible image and links that pass "
            "through Accord, so you see who opened them and clicked a link."
        ),
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(Lower("name"), name="email_template_name_unique")]

    def __str__(self) -> str:
        return self.name


class LinkClick(models.Model):
    """The clicks on one link of one tracked message: which link, how often, when first
    and last (accord/comms/services/tracking.py counts them)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="link_clicks")
    url = models.CharField(max_length=2000)
    clicks = models.PositiveIntegerField(default=0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        ordering = ["first_at", "id"]
        constraints = [models.UniqueConstraint(fields=["message", "url"], name="link_click_once")]

    def __str__(self) -> str:
        return self.url


class Mailing(Record):
    """A template sent to the people of a segment from a mailbox: a draft until started,
    then a row per recipient, sent by the worker at the mailbox's pace."""

    DRAFT, SENDING, PAUSED, DONE, CANCELLED = "draft", "sending", "paused", "done", "cancelled"
    STATES = [
        (DRAFT, _("Draft")),
        (SENDING, _("Sending")),
        (PAUSED, _("Paused")),
        (DONE, _("Done")),
        (CANCELLED, _("Cancelled")),
    ]

    name = models.CharField(_("name"), max_length=200)
    template = models.ForeignKey(
        EmailTemplate,
        verbose_name=_("template"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # An SMS mailing: the connection it goes by and its text (merge fields allowed); none:
    # an e-mail mailing from the template.
    messenger = models.ForeignKey(
        "Messenger",
        verbose_name=_("SMS connection"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.TextField(_("SMS text"), blank=True)
    segment = models.ForeignKey(
        "contacts.Segment",
        verbose_name=_("segment"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    segment_name = models.CharField(max_length=100, blank=True)  # kept if the segment goes
    # The campaign it is part of: marketing (a floor above) shows its results there.
    campaign = models.ForeignKey(
        "marketing.Campaign", verbose_name=_("campaign"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="mailings",
    )  # fmt: skip
    mailbox = models.ForeignKey(
        Mailbox, verbose_name=_("mailbox"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(_("state"), max_length=10, choices=STATES, default=DRAFT)
    # Who was left out and why, counted when it started: {"no_email": 3, …}.
    audience = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state"], name="mailing_state")]

    def __str__(self) -> str:
        return self.name


class Recipient(models.Model):
    """One person of a mailing: queued, then sending (its message made), then what became
    of the message; or skipped with the reason, or unsubscribed."""

    QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
    BOUNCED, UNSUBSCRIBED, SKIPPED, CANCELLED = "bounced", "unsubscribed", "skipped", "cancelled"
    STATES = [
        (QUEUED, _("Queued")),
        (SENDING, _("Sending")),
        (SENT, _("Sent")),
        (FAILED, _("Failed")),
        (BOUNCED, _("Bounced")),
        (UNSUBSCRIBED, _("Unsubscribed")),
        (SKIPPED, _("Skipped")),
        (CANCELLED, _("Not sent (cancelled)")),
    ]

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="recipients")
    person = models.ForeignKey(
        "contacts.Person", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    address = models.CharField(max_length=254, blank=True)
    state = models.CharField(max_length=12, choices=STATES, default=QUEUED)
    reason = models.CharField(max_length=20, blank=True)  # why skipped (audience.REASONS)
    message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="recipient"
    )

    class Meta:
        indexes = [
            models.Index(fields=["mailing", "state", "id"], name="recipient_state"),
        ]

    def __str__(self) -> str:
        return self.address


class Unsubscribe(models.Model):
    """An address (and its person) that asked for no more offers and news: later
    mailings and marketing e-mails skip it."""

    address = models.CharField(max_length=254)  # lower case
    person = models.ForeignKey(
        "contacts.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mailing = models.ForeignKey(
        Mailing, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=200, blank=True)  # what they unsubscribed from
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["address"], name="unsubscribe_address"),
            models.Index(fields=["person"], name="unsubscribe_person"),
            models.Index(fields=["-at", "-id"], name="unsubscribe_keyset"),
        ]

    def __str__(self) -> str:
        return self.address
