"""The numbers and bots new clients come through: an administrator ties each to a channel
and, where an advert has a number of its own, a campaign; a client a call or a message
made is counted there (their first and last touch), like a web form's visitor."""

from datetime import UTC, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.comms.models import Messenger
from accord.contacts.models import Person
from accord.core.phones import PhoneError, normalize_phone, try_normalize_phone
from accord.core.visibility import ALL, WRITE, effective_level
from accord.marketing.models import Campaign, Channel, LeadLine, Touch


def _check(actor: User) -> None:
    if effective_level(actor, "settings", WRITE) != ALL:
        raise PermissionDenied(_("Only administrators choose where numbers and bots count."))


@transaction.atomic
def lead_line_save(*, actor: User, data: dict, line: LeadLine | None = None) -> LeadLine:
    """A number (typed in any format) or a messenger bot, with its channel and campaign;
    a number or bot already tied elsewhere is refused."""
    _check(actor)
    errors: dict[str, list[str]] = {}
    number, messenger = str(data.get("number") or "").strip(), data.get("messenger")
    if bool(number) == bool(messenger):
        errors["number"] = [_("Enter a phone number or choose a messenger bot (one of them).")]
    elif number:
        try:
            number = normalize_phone(number)
        except PhoneError as error:
            errors["number"] = [str(error)]
    elif not isinstance(messenger, Messenger):
        errors["messenger"] = [_("Choose a messenger bot.")]
    others = LeadLine.objects.exclude(pk=line.pk if line else None)
    if number and not errors and others.filter(number=number).exists():
        errors["number"] = [_("This number counts under another channel already.")]
    if isinstance(messenger, Messenger) and others.filter(messenger=messenger).exists():
        errors["messenger"] = [_("This bot counts under another channel already.")]
    channel, campaign = data.get("channel"), data.get("campaign")
    if not isinstance(channel, Channel) or channel.retired:
        errors["channel"] = [_("Choose the channel.")]
    if campaign is not None and not isinstance(campaign, Campaign):
        errors["campaign"] = [_("Choose the campaign.")]
    elif (
        campaign is not None
        and isinstance(channel, Channel)
        and (campaign.channel_id != channel.pk)
    ):
        errors["campaign"] = [_("The campaign runs in another channel.")]
    if errors:
        raise ValidationError(errors)
    line = line or LeadLine()
    line.number, line.messenger = (number, None) if number else ("", messenger)
    line.channel, line.campaign = channel, campaign
    line.save()
    return line


@transaction.atomic
def lead_line_delete(*, actor: User, line: LeadLine) -> None:
    """The number or bot no longer counts under its channel; clients it brought keep theirs."""
    _check(actor)
    line.delete()


def _line_of(event_payload: dict) -> LeadLine | None:
    if event_payload.get("messenger_id"):
        return LeadLine.objects.filter(messenger_id=event_payload["messenger_id"]).first()
    number = try_normalize_phone(event_payload.get("line") or "")
    return LeadLine.objects.filter(number=number).first() if number else None


def _default_channel(via: str) -> Channel | None:
    kind = Channel.PHONE if via == "call" else Channel.MESSENGER
    return Channel.objects.filter(kind=kind, retired=False).order_by("position", "id").first()


def _when(text) -> datetime | None:
    try:
        moment = parse_datetime(str(text or ""))
    except ValueError:
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment


def on_lead_arrived(event) -> None:
    """A client a call or a message made: their first and last touch name the line's
    channel and campaign (or the phone's or the messengers' channel); a client who
    already came some other way keeps that."""
    payload = event.payload
    person = Person.objects.filter(pk=payload.get("person_id")).first()
    if person is None or Touch.objects.filter(person=person, deal=None).exists():
        return
    line = _line_of(payload)
    channel = line.channel if line else _default_channel(payload.get("via", ""))
    facts = {
        "person": person,
        "channel": channel,
        "campaign": line.campaign if line else None,
        "source": (payload.get("line") or payload.get("provider") or "")[:200],
        "medium": payload.get("via", "")[:200],
        # When the call or message came (a PBX's or a messenger's late delivery too).
        "at": _when(payload.get("at")) or event.occurred_at or timezone.now(),
    }
    Touch.objects.bulk_create([Touch(kind=Touch.FIRST, **facts), Touch(kind=Touch.LAST, **facts)])
