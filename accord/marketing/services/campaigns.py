"""Channels (a shipped list, extended by an administrator) and campaigns, checked before
they are kept."""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accord.accounts.models import User
from accord.billing.services.common import clean_amount, clean_currency
from accord.core.visibility import ALL, WRITE, effective_level, may_change
from accord.marketing.models import Campaign, Channel

RECORD_TYPE = "campaigns"
SHIPPED_CHANNELS = [
    ("site", gettext_noop("Web site"), Channel.SITE),
    ("ads", gettext_noop("Online ads"), Channel.ADS),
    ("social", gettext_noop("Social networks"), Channel.SOCIAL),
    ("referral", gettext_noop("Recommendation"), Channel.REFERRAL),
    ("walk-in", gettext_noop("Walk-in"), Channel.WALK_IN),
    ("phone", gettext_noop("Phone call"), Channel.PHONE),
    ("email", gettext_noop("E-mail"), Channel.EMAIL),
    ("messenger", gettext_noop("Messenger"), Channel.MESSENGER),
]


def ensure_shipped_channels(using: str = "default", **kwargs) -> None:
    """The shipped channels on an instance that has none of them (after migrate)."""
    channels = Channel.objects.using(using)
    if channels.filter(shipped=True).exists():
        return
    have = set(channels.values_list("code", flat=True))
    channels.bulk_create(
        Channel(code=code, name=name, kind=kind, shipped=True, position=position)
        for position, (code, name, kind) in enumerate(SHIPPED_CHANNELS)
        if code not in have
    )


@transaction.atomic
def channel_save(*, actor: User, data: dict, channel: Channel | None = None) -> Channel:
    """A channel an administrator adds or renames; its code is what links' utm_source say."""
    if effective_level(actor, "settings", WRITE) != ALL:
        raise PermissionDenied(_("Only administrators change the channels."))
    errors: dict[str, list[str]] = {}
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 100:
        errors["name"] = [_("Name the channel (at most 100 characters).")]
    kind = data.get("kind") or (channel.kind if channel else Channel.OTHER)
    if kind not in dict(Channel.KINDS):
        errors["kind"] = [_("Choose the kind of channel.")]
    code = slugify(str(data.get("code") or (channel.code if channel else "") or name))[:40]
    if not code:
        errors["code"] = [_("A code is letters, digits and dashes, such as google.")]
    elif Channel.objects.filter(code=code).exclude(pk=channel.pk if channel else None).exists():
        errors["code"] = [_("Another channel has this code.")]
    if errors:
        raise ValidationError(errors)
    if channel is None:
        position = (Channel.objects.aggregate(n=Max("position"))["n"] or 0) + 1
        channel = Channel(position=position)
    if channel.name != name:
        channel.shipped = False  # renamed: shown as typed, no longer translated
    channel.name, channel.kind, channel.code = name, kind, code
    if "retired" in data:
        channel.retired = bool(data["retired"])
    channel.save()
    return channel


def may_write_campaign(actor: User, campaign: Campaign | None = None) -> bool:
    return may_change(actor, RECORD_TYPE, campaign.owner if campaign else actor)


@transaction.atomic
def campaign_save(*, actor: User, data: dict, campaign: Campaign | None = None) -> Campaign:
    """A new campaign, or a change of one: name, channel, code, budget and dates. Fields
    left out of `data` keep their values."""
    if campaign is not None:
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not may_write_campaign(actor, campaign):
        raise PermissionDenied(_("Your role does not allow changing campaigns."))
    errors: dict[str, list[str]] = {}

    def value(key: str, default=None):
        return data[key] if key in data else getattr(campaign, key, default)

    name = str(value("name") or "").strip()
    if not name or len(name) > 200:
        errors["name"] = [_("Name the campaign (at most 200 characters).")]
    channel = value("channel")
    changed = campaign is None or getattr(channel, "pk", None) != campaign.channel_id
    if not isinstance(channel, Channel) or (channel.retired and changed):
        errors["channel"] = [_("Choose the channel.")]
    currency = clean_currency(value("currency", ""), errors)
    budget = value("budget")
    budget = None if budget in (None, "") else clean_amount(budget, currency, errors, "budget")
    starts_on, ends_on = value("starts_on"), value("ends_on")
    for key, day in (("starts_on", starts_on), ("ends_on", ends_on)):
        if day is not None and not isinstance(day, date):
            errors[key] = [_("Enter a date.")]
    if isinstance(starts_on, date) and isinstance(ends_on, date) and ends_on < starts_on:
        errors["ends_on"] = [_("The campaign cannot end before it starts.")]
    code = _code(value("code", ""), campaign, errors)
    if errors:
        raise ValidationError(errors)
    if campaign is None:
        campaign = Campaign(created_by=actor, owner=actor)
    else:
        campaign.version += 1
    campaign.name, campaign.channel, campaign.code, campaign.currency = (
        name,
        channel,
        code,
        currency,
    )
    campaign.budget, campaign.starts_on, campaign.ends_on = budget, starts_on, ends_on
    campaign.note = str(value("note", "") or "")[:2000]
    campaign.retired = bool(value("retired", False))
    campaign.save()
    return campaign


def _code(raw, campaign: Campaign | None, errors: dict) -> str:
    """The campaign's utm_campaign: typed as the links carry it, unique among campaigns."""
    code = str(raw or "").strip()
    if not code:
        return ""
    if slugify(code) != code.lower() or len(code) > 60:
        errors["code"] = [
            _("A code is letters, digits, dashes and underscores, such as spring-sale.")
        ]
        return code
    taken = Campaign.objects.filter(code__iexact=code)
    if campaign is not None:
        taken = taken.exclude(pk=campaign.pk)
    if taken.exists():
        errors["code"] = [_("Another campaign has this code.")]
    return code.lower()
