"""Every write of mailboxes: saved with their passwords sealed (a blank password keeps the
one stored), removed, and their secrets sealed anew after the secret key changed."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.comms.models import SECURITY, Mailbox
from accord.comms.queries import manages_mailboxes
from accord.core.errors import StaleVersion
from accord.core.secrets import reseal, seal

TEXTS = {
    "name": 100, "from_name": 100, "address": 254, "smtp_host": 255, "smtp_username": 255,
    "imap_host": 255, "imap_username": 255, "imap_folder": 255,
}  # fmt: skip
FIELDS = [*TEXTS, "owner", "is_default", "active", "smtp_port", "smtp_security",
          "imap_port", "imap_security", "per_minute"]  # fmt: skip
MAX_PER_MINUTE = 100_000


def may_manage(actor: User, mailbox: Mailbox | None) -> bool:
    """Administrators manage every mailbox; a user their own."""
    if not actor.is_active:
        return False
    return manages_mailboxes(actor) or (mailbox is not None and mailbox.owner_id == actor.pk)


@transaction.atomic
def mailbox_save(
    *, actor: User, data: dict, mailbox: Mailbox | None = None, version: int | None = None
) -> Mailbox:
    """Create or change a mailbox. `smtp_password` / `imap_password`: None or absent keeps
    the stored one, "" forgets it, any other text is sealed and stored."""
    if mailbox is not None and not may_manage(actor, mailbox):
        raise PermissionDenied(_("You may not change this mailbox."))
    if mailbox is not None and version is not None:
        current = Mailbox.objects.select_for_update().get(pk=mailbox.pk).version
        if current != version:
            raise StaleVersion(current)
    admin = manages_mailboxes(actor)
    if not admin:
        # A user keeps mailboxes of their own only; shared ones are the administrators'.
        data["owner"] = actor
        data.pop("is_default", None)
    record = mailbox or Mailbox()
    values = {name: data.get(name, getattr(record, name)) for name in FIELDS}
    values["owner"] = data.get("owner", record.owner)
    errors = _check(values, record, admin)
    if errors:
        raise ValidationError(errors)
    where = ("imap_host", "imap_port", "imap_username", "imap_folder")
    moved = record.pk is not None and any(values[name] != getattr(record, name) for name in where)
    for name, value in values.items():
        setattr(record, name, value)
    record.address = record.address.strip()
    if moved or data.get("imap_password") is not None:
        # Another folder (or a login that may work now): fetch at once, from its start.
        if moved:
            record.sync_uidvalidity, record.sync_last_uid = None, 0
            record.sent_folder, record.sent_uidvalidity, record.sent_last_uid = "", None, 0
        record.sync_due_at, record.sync_failures, record.sync_error = None, 0, ""
    if record.owner_id is not None:
        record.is_default = False
    for secret in ("smtp_password", "imap_password"):
        if data.get(secret) is not None:
            setattr(record, f"{secret}_sealed", seal(data[secret]))
    if record.is_default:
        Mailbox.objects.filter(is_default=True).exclude(pk=record.pk).update(is_default=False)
    if record.pk is None:
        record.created_by = actor
    else:
        record.version = F("version") + 1
    record.save()
    record.refresh_from_db()
    return record


def _check(values: dict, record: Mailbox, admin: bool) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, limit in TEXTS.items():
        value = str(values.get(name) or "").strip()
        values[name] = value
        if "\r" in value or "\n" in value:
            errors[name] = [_("A line break is not allowed here.")]
        elif len(value) > limit:
            errors[name] = [_("At most %(limit)s characters.") % {"limit": limit}]
    for name in ("name", "address", "smtp_host", "imap_folder"):
        if not values[name] and name not in errors:
            errors[name] = [_("Fill this in.")]
    if values["address"] and "address" not in errors:
        try:
            validate_email(values["address"])
        except ValidationError:
            errors["address"] = [_("Enter an e-mail address, like sales@example.com.")]
        else:
            taken = Mailbox.objects.filter(address__iexact=values["address"])
            if taken.exclude(pk=record.pk).exists():
                errors["address"] = [_("Another mailbox has this address.")]
    for name in ("smtp_port", "imap_port"):
        port = values.get(name)
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            errors[name] = [_("A port is a number from 1 to 65535.")]
    pace = values.get("per_minute")
    if not isinstance(pace, int) or isinstance(pace, bool) or not 0 <= pace <= MAX_PER_MINUTE:
        errors["per_minute"] = [
            _("A number from 0 (no limit) to %(limit)s.") % {"limit": MAX_PER_MINUTE}
        ]
    for name in ("smtp_security", "imap_security"):
        if values.get(name) not in dict(SECURITY):
            errors[name] = [_("Choose one from the list.")]
    for name in ("is_default", "active"):
        if not isinstance(values.get(name), bool):
            errors[name] = [_("Say yes or no: true or false.")]
    owner = values.get("owner")
    if owner is not None and not (isinstance(owner, User) and owner.is_active):
        errors["owner"] = [_("Choose an active user, or none for a shared mailbox.")]
    if values.get("is_default") is True and owner is not None:
        errors["is_default"] = [_("Only a shared mailbox can be the company's default.")]
    if not admin and record.pk is not None and record.owner_id is None:
        errors["owner"] = [_("Only an administrator changes a shared mailbox.")]
    return errors


@transaction.atomic
def mailbox_delete(*, actor: User, mailbox: Mailbox) -> None:
    """Remove a mailbox; the messages sent from it keep their sender's address."""
    if not may_manage(actor, mailbox):
        raise PermissionDenied(_("You may not change this mailbox."))
    mailbox.delete()


@transaction.atomic
def mailboxes_reseal() -> int:
    """Seal every stored password anew with the current secret key (after it changed and
    the old one went into SECRET_KEY_FALLBACKS); answers how many mailboxes changed."""
    changed = 0
    for mailbox in Mailbox.objects.select_for_update().order_by("pk"):
        smtp, imap = reseal(mailbox.smtp_password_sealed), reseal(mailbox.imap_password_sealed)
        Mailbox.objects.filter(pk=mailbox.pk).update(
            smtp_password_sealed=smtp, imap_password_sealed=imap
        )
        changed += 1
    return changed
