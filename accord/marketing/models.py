"""Where clients come from: the channels (the web site, ads, referrals, walk-ins …) and the
campaigns run in them, each with its budget and dates; what a campaign cost is what was
spent on it (billing's expenses name it)."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accord.core.models import Record


class Channel(models.Model):
    """A way clients come: a shipped list the admin extends. Its code is what a link's
    utm_source says ("google", "instagram")."""

    SITE, ADS, SOCIAL, REFERRAL, WALK_IN, PHONE, EMAIL, MESSENGER, OTHER = (
        "site", "ads", "social", "referral", "walk_in", "phone", "email", "messenger", "other",
    )  # fmt: skip
    KINDS = [
        (SITE, _("Web site")),
        (ADS, _("Advertising")),
        (SOCIAL, _("Social networks")),
        (REFERRAL, _("Recommendation")),
        (WALK_IN, _("Walk-in")),
        (PHONE, _("Phone")),
        (EMAIL, _("E-mail")),
        (MESSENGER, _("Messenger")),
        (OTHER, _("Other")),
    ]

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=KINDS, default=OTHER)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    shipped = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)
    retired = models.BooleanField(_("retired"), default=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return gettext(self.name) if self.shipped else self.name


class Campaign(Record):
    """A campaign in one channel: its budget and dates, and the code its links carry as
    utm_campaign, by which leads are counted to it."""

    name = models.CharField(_("name"), max_length=200)
    channel = models.ForeignKey(
        Channel, verbose_name=_("channel"), on_delete=models.PROTECT, related_name="campaigns"
    )
    code = models.SlugField(_("code (utm_campaign)"), max_length=60, blank=True)
    budget = models.DecimalField(
        _("budget"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3)
    starts_on = models.DateField(_("starts"), null=True, blank=True)
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    note = models.TextField(_("note"), max_length=2000, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    retired = models.BooleanField(_("finished"), default=False)

    class Meta:
        ordering = ["retired", "-starts_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=~models.Q(code=""), name="campaign_code_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


def new_token() -> str:
    return secrets.token_urlsafe(12)


def invite_token() -> str:
    """A survey link's: 192 random bits, a link nobody guesses."""
    return secrets.token_urlsafe(24)


class WebForm(Record):
    """A form on the company's web site that posts to Accord: the fields it asks, its
    consent text, what the visitor sees after, and where its leads go (channel,
    campaign, the team whose lead rule picks the owner, a deal in a pipeline)."""

    name = models.CharField(_("name"), max_length=200)
    token = models.CharField(max_length=40, unique=True, default=new_token)
    # [{"key": "email", "required": true}, …]: the built-in fields and "cf.<key>" ones.
    fields = models.JSONField(default=list)
    consent_text = models.TextField(_("consent text"), max_length=2000, blank=True)
    consent_required = models.BooleanField(_("consent is required"), default=False)
    double_opt_in = models.BooleanField(
        _("confirm the consent by e-mail"),
        default=False,
        help_text=_("The visitor gets a link; only a click on it records their consent."),
    )
    thanks_text = models.TextField(_("thank-you text"), max_length=2000, blank=True)
    redirect_url = models.URLField(_("after sending, go to"), max_length=500, blank=True)
    allowed_sites = models.TextField(_("allowed sites"), max_length=2000, blank=True)
    channel = models.ForeignKey(
        Channel, verbose_name=_("channel"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="forms",
    )  # fmt: skip
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    pipeline = models.ForeignKey(
        "sales.Pipeline", verbose_name=_("pipeline"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    creates_deal = models.BooleanField(_("make a deal for each request"), default=True)
    retired = models.BooleanField(_("switched off"), default=False)
    received = models.PositiveIntegerField(default=0)  # requests filed (see Submission)
    refused_as_spam = models.PositiveIntegerField(default=0)
    # When the worker's pass over the requests waiting to be filed was queued (a burst
    # queues one pass); cleared as the pass begins.
    requests_queued_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["retired", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Submission(models.Model):
    """One request sent through a web form: what it said and where the visitor came
    from, and the client (and deal) it went to. Kept as it arrives (`pending`), then
    filed by the worker: a client, a deal, a note (`done`)."""

    PENDING, DONE = "pending", "done"
    STATES = [(PENDING, _("Waiting to be filed")), (DONE, _("Filed"))]

    form = models.ForeignKey(WebForm, on_delete=models.CASCADE, related_name="submissions")
    person = models.ForeignKey(  # a merge moves it to the client kept
        "contacts.Person", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="web_requests",
    )  # fmt: skip
    deal = models.ForeignKey(
        "sales.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    values = models.JSONField(default=dict)
    came_from = models.JSONField(default=dict)  # utm_*, gclid, fbclid, referrer, landing page
    # Why it made no client, when the services refused it: kept to be seen, never lost.
    problem = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=STATES, default=DONE)
    attempts = models.PositiveSmallIntegerField(default=0)  # filings that failed
    next_try_at = models.DateTimeField(null=True, blank=True)  # after a failed one
    language = models.CharField(max_length=10, blank=True)  # the page's, for the note and mail
    created_at = models.DateTimeField(default=timezone.now)  # when it arrived

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["form", "-created_at"], name="submission_form_recent"),
            models.Index(
                fields=["created_at"],
                condition=models.Q(state="pending"),
                name="submission_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.form_id}: {self.created_at:%Y-%m-%d %H:%M}"


class Touch(models.Model):
    """Where a client (or a deal) came from: the first touch is kept as it was, the last
    one follows each new request. A deal keeps the touch of the lead it was made for."""

    FIRST, LAST = "first", "last"
    person = models.ForeignKey(
        "contacts.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="touches"
    )
    deal = models.ForeignKey(
        "sales.Deal", null=True, blank=True, on_delete=models.CASCADE, related_name="touches"
    )
    kind = models.CharField(max_length=5, choices=[(FIRST, _("first")), (LAST, _("last"))])
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="touches"
    )
    source = models.CharField(max_length=200, blank=True)
    medium = models.CharField(max_length=200, blank=True)
    campaign_code = models.CharField(max_length=200, blank=True)
    term = models.CharField(max_length=200, blank=True)
    content = models.CharField(max_length=200, blank=True)
    gclid = models.CharField(max_length=200, blank=True)
    fbclid = models.CharField(max_length=200, blank=True)
    referrer = models.CharField(max_length=500, blank=True)
    landing_page = models.CharField(max_length=500, blank=True)
    form = models.ForeignKey(
        WebForm, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        # No uniqueness: a merge brings the other client's touches along, and the card
        # reads the earliest first touch and the latest last one.
        indexes = [models.Index(fields=["person", "kind", "at"], name="touch_person_kind")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.source or self.channel_id or '-'}"


class Survey(Record):
    """A short question to clients after a sale or a conversation: a score (0–10, "would
    you recommend us", or 1–5 stars) and a comment, answered on a page of its own through
    a link only the client has. A score at or below `low_score` makes a task for the
    rated manager's head."""

    NPS, STARS = "nps", "stars"
    SCALES = [(NPS, _("0–10: would they recommend us")), (STARS, _("1–5 stars"))]
    name = models.CharField(_("name"), max_length=200)
    scale = models.CharField(_("scale"), max_length=5, choices=SCALES, default=NPS)
    question = models.CharField(_("question"), max_length=300)
    comment_prompt = models.CharField(_("comment prompt"), max_length=300, blank=True)
    invitation = models.TextField(_("invitation"), max_length=1000, blank=True)
    thanks_text = models.TextField(_("thank-you text"), max_length=1000, blank=True)
    low_score = models.PositiveSmallIntegerField(_("a low score is at most"), default=6)
    retired = models.BooleanField(_("switched off"), default=False)

    class Meta:
        ordering = ["retired", "name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def lowest(self) -> int:
        return 0 if self.scale == self.NPS else 1

    @property
    def highest(self) -> int:
        return 10 if self.scale == self.NPS else 5


class SurveyInvite(models.Model):
    """One client's link to a survey (one answer per link), the deal and the manager it
    rates, and their answer once given."""

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="invites")
    token = models.CharField(max_length=40, unique=True, default=invite_token)
    # What asked: an automation step's run and place, so a step run again asks once.
    key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    person = models.ForeignKey(
        "contacts.Person", on_delete=models.CASCADE, related_name="survey_invites"
    )
    deal = models.ForeignKey(
        "sales.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rated = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True, max_length=2000)
    task = models.ForeignKey(
        "work.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-answered_at", "-id"]
        indexes = [
            models.Index(fields=["survey", "answered_at"], name="survey_invite_answered"),
            models.Index(fields=["rated", "answered_at"], name="survey_invite_rated"),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id}: {self.score}"


class LeadLine(models.Model):
    """A phone number or a messenger bot that new clients come through, and the channel
    (and campaign) they count under: a number of its own on each advert tells which
    advert made the phone ring (call tracking)."""

    number = models.CharField(_("number"), max_length=20, blank=True)  # E.164, ours
    messenger = models.OneToOneField(
        "comms.Messenger",
        verbose_name=_("messenger"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    channel = models.ForeignKey(
        Channel, verbose_name=_("channel"), on_delete=models.PROTECT, related_name="+"
    )
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["number"], condition=~models.Q(number=""), name="lead_line_number_once"
            ),
            models.CheckConstraint(
                condition=(models.Q(number="") & models.Q(messenger__isnull=False))
                | (~models.Q(number="") & models.Q(messenger__isnull=True)),
                name="lead_line_number_or_messenger",
            ),
        ]

    def __str__(self) -> str:
        return self.number or str(self.messenger)


def consent_token() -> str:
    return secrets.token_urlsafe(32)


class ConsentRequest(models.Model):
    """A web form's consent waiting for its e-mail's confirmation (double opt-in): the
    link sent to the address the visitor typed; only a click on it records the consent."""

    token = models.CharField(max_length=64, unique=True, default=consent_token)
    form = models.ForeignKey(WebForm, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(
        "contacts.Person", on_delete=models.CASCADE, related_name="consent_requests"
    )
    email = models.EmailField(max_length=254)
    language = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.form_id}: {self.email}"
