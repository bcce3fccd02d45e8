"""Where clients come from: the channels (the web site, ads, referrals, walk-ins …) and the
campaigns run in them, each with its budget and dates; what a campaign cost is what was
spent on it (billing's expenses name it)."""

from django.conf import settings
from django.db import models
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
        (REFERRAL, _("Referral")),
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
