"""A messenger's or SMS gateway's connection: its settings saved (tokens sealed), removed,
its webhook set, the problems it meets kept for the administrator to see."""

import datetime
import re

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import Team, User
from accord.comms import messengers as adapters
from accord.comms.models import Messenger, Telephony
from accord.comms.queries import hook_connection_forget
from accord.core import http
from accord.core.secrets import reseal, seal, unseal

PROBLEMS_KEPT = 10
TEMPLATE_LINE = re.compile(r"^\s*([a-z0-9_]{1,512})\s*(?:[:/ ]\s*([A-Za-z_]{2,10}))?\s*$")


def require_admin(actor: User) -> None:
    if not actor.sets_up_company:
        raise PermissionDenied(_("Only an administrator connects messengers and SMS."))


@transaction.atomic
def messenger_save(*, actor: User, data: dict, messenger: Messenger | None = None) -> Messenger:
    """Create or change a connection; `token` and `secret` are kept sealed ("" keeps the
    ones stored). What each provider needs is checked here."""
    require_admin(actor)
    errors: dict[str, list[str]] = {}
    name = _limited(data, "name", 100, errors)
    if not name and "name" not in errors:
        errors["name"] = [_("Give the connection a name.")]
    provider = messenger.provider if messenger else data.get("provider") or ""
    if provider not in dict(Messenger.PROVIDERS):
        errors["provider"] = [_("Choose a provider from the list.")]
    team = data.get("lead_team")
    if team is not None and not isinstance(team, Team):
        errors["lead_team"] = [_("Choose a team from the list.")]
    token = _limited(data, "token", 500, errors)
    secret = _limited(data, "secret", 500, errors)
    account = _limited(data, "account", 100, errors)
    sender = _limited(data, "sender", 40, errors)
    url = _limited(data, "gateway_url", 2000, errors)
    body = str(data.get("gateway_body") or "")[:4000]
    method = data.get("gateway_method") or Messenger.POST_JSON
    templates = _templates(data.get("templates"), errors)
    has_token = bool(token or (messenger and messenger.token_sealed))
    has_secret = bool(secret or (messenger and messenger.secret_sealed))
    if provider == Messenger.TELEGRAM and not has_token:
        errors["token"] = [_("Give the bot's token (BotFather gives it).")]
    if provider == Messenger.WHATSAPP:
        if not has_token:
            errors["token"] = [_("Give the access token of the WhatsApp Business account.")]
        if not has_secret:
            errors["secret"] = [_("WhatsApp signs its deliveries with the app secret: give it.")]
        if not account.isdecimal():
            errors["account"] = [_("Give the phone number ID (digits) from the Meta dashboard.")]
    if provider == Messenger.TWILIO_SMS:
        if not account.startswith("AC"):
            errors["account"] = [_("Give the account SID (it begins with AC).")]
        if not has_token:
            errors["token"] = [_("Twilio signs its callbacks with your auth token: give it.")]
        if not sender:
            errors["sender"] = [_("Give the Twilio number messages go out from.")]
    if provider == Messenger.SMS_GATEWAY:
        if method not in dict(Messenger.GATEWAY_METHODS):
            errors["gateway_method"] = [_("Choose a way from the list.")]
        elif problems := adapters.gateway_template_problems(url, method, body):
            errors["gateway_url"] = problems
        if not has_secret:
            errors["secret"] = [_("Give the secret the gateway signs its messages with.")]
    if errors:
        raise ValidationError(errors)
    messenger = messenger or Messenger(created_by=actor, provider=provider)
    if messenger.pk:
        messenger = Messenger.objects.select_for_update().get(pk=messenger.pk)
        messenger.version += 1
    messenger.name, messenger.lead_team = name, team
    messenger.active = bool(data.get("active", True))
    messenger.account, messenger.sender, messenger.templates = account, sender, templates
    messenger.gateway_url, messenger.gateway_method, messenger.gateway_body = url, method, body
    if token:
        messenger.token_sealed = seal(token)
        messenger.webhook_set_at = None  # a new bot: its webhook is set again
    if secret:
        messenger.secret_sealed = seal(secret)
    messenger.save()
    hook_connection_forget(messenger)
    return messenger


def _limited(data: dict, name: str, limit: int, errors: dict) -> str:
    value = str(data.get(name) or "").strip()
    if len(value) > limit:
        errors[name] = [_("At most %(limit)s characters.") % {"limit": limit}]
    return value[:limit]


def _templates(value, errors: dict) -> list[dict]:
    """WhatsApp's approved templates, a line each: "name" or "name:language" (en_US)."""
    if isinstance(value, list):
        return value
    found = []
    for line in str(value or "").splitlines()[:50]:
        if not line.strip():
            continue
        match = TEMPLATE_LINE.match(line)
        if match is None:
            errors["templates"] = [
                _("A line per template: its name, a colon and its language (order_ready:en_US).")
            ]
            return []
        found.append({"name": match[1], "language": match[2] or "en_US"})
    return found


@transaction.atomic
def connections_reseal() -> int:
    """Seal every messenger's and PBX's stored token, key and secret anew with the current
    secret key (after it changed, as `mailboxes_reseal`); answers how many connections."""
    changed = 0
    for messenger in Messenger.objects.select_for_update().order_by("pk"):
        Messenger.objects.filter(pk=messenger.pk).update(
            token_sealed=reseal(messenger.token_sealed),
            secret_sealed=reseal(messenger.secret_sealed),
        )
        hook_connection_forget(messenger)
        changed += 1
    for telephony in Telephony.objects.select_for_update().order_by("pk"):
        Telephony.objects.filter(pk=telephony.pk).update(
            api_key_sealed=reseal(telephony.api_key_sealed),
            secret_sealed=reseal(telephony.secret_sealed),
        )
        hook_connection_forget(telephony)
        changed += 1
    return changed


@transaction.atomic
def messenger_delete(*, actor: User, messenger: Messenger) -> None:
    """Remove a connection; its conversations and messages stay."""
    require_admin(actor)
    hook_connection_forget(messenger)
    messenger.delete()


def messenger_set_webhook(*, actor: User, messenger: Messenger, url: str) -> None:
    """Tell Telegram where the bot's messages go (Settings → Messengers does it on save);
    ValidationError with Telegram's answer when it refuses."""
    require_admin(actor)
    try:
        adapters.set_webhook(messenger, token=unseal(messenger.token_sealed), url=url)
    except (http.Refused, http.Failed) as error:
        raise ValidationError({"token": [_("Telegram refused: %(reason)s") % {
            "reason": f"{error} {getattr(error, 'body', '')}".strip()}]}) from None  # fmt: skip
    Messenger.objects.filter(pk=messenger.pk).update(webhook_set_at=timezone.now())


@transaction.atomic
def messenger_problem(*, messenger: Messenger, reason: str, at: datetime.datetime) -> None:
    """A delivery we did not take or a message the provider refused, kept for the
    admin's page (newest first, a few)."""
    fresh = Messenger.objects.select_for_update().filter(pk=messenger.pk).first()
    if fresh is None:
        return
    fresh.problems = [{"at": at.isoformat(), "reason": reason[:500]}, *fresh.problems][
        :PROBLEMS_KEPT
    ]
    fresh.save(update_fields=["problems"])


def hook_url(messenger: Messenger) -> str:
    """The address the provider delivers to (Settings → Messengers shows it)."""
    path = reverse("messenger_hook", args=[messenger.hook_token])
    return settings.ACCORD_BASE_URL.rstrip("/") + path
