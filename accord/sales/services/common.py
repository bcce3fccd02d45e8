"""What the sales services share: who may change deals and pipelines, reading an amount."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.core.visibility import ALL, NONE, WRITE, effective_level, may_change
from accord.sales.models import Deal

RECORD_TYPE = "deals"


def require_write(actor: User, deal: Deal | None = None) -> None:
    if effective_level(actor, RECORD_TYPE, WRITE) == NONE:
        raise PermissionDenied(_("Your role does not allow changing deals."))
    if deal is not None and not can_change(actor, deal):
        raise PermissionDenied(_("You may not change this deal."))


def can_change(actor: User, deal: Deal) -> bool:
    return may_change(actor, RECORD_TYPE, deal.owner)


def require_settings(actor: User) -> None:
    if effective_level(actor, "settings", WRITE) != ALL:
        raise PermissionDenied(_("Only administrators change pipelines and the catalogue."))


def clean_money(
    value: Any, field: str, errors: dict, *, low=Decimal(0), high=Decimal(10**12), places: int = 2
):
    """A number as typed, within [low, high) and with at most `places` decimals (what the
    column keeps: a value rounded by the database would not be what was typed)."""
    try:
        number = Decimal(str(value).replace(",", ".").replace(" ", ""))
    except (InvalidOperation, ValueError):
        errors[field] = [_("Enter a number.")]
        return None
    if not number.is_finite() or not low <= number < high:
        errors[field] = [_("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}]
        return None
    if number != number.quantize(Decimal(1).scaleb(-places)):
        errors[field] = [_("Enter at most %(places)s decimals.") % {"places": places}]
        return None
    return number
