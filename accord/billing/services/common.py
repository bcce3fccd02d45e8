"""What the billing services share: who may change money records, reading amounts,
the client an invoice or a payment belongs to."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.core.money import is_currency, parse_decimal, round_money, step
from accord.core.visibility import NONE, WRITE, effective_level, may_change

RECORD_TYPE = "invoices"  # invoices, payments and expenses share the role's "Invoices" level


def require_write(actor: User, owner=False) -> None:
    """The actor's role changes money records at all, and (given an owner, a user or None)
    this one."""
    if effective_level(actor, RECORD_TYPE, WRITE) == NONE:
        raise PermissionDenied(_("Your role does not allow changing invoices and payments."))
    if owner is not False and not may_change(actor, RECORD_TYPE, owner):
        raise PermissionDenied(_("You may not change this record."))


def clean_currency(value: Any, errors: dict, field: str = "currency") -> str:
    code = str(value or "").strip().upper()
    if not is_currency(code):
        errors[field] = [_("Enter a currency's three-letter code, such as EUR.")]
    return code


def clean_amount(
    value: Any, currency: str, errors: dict, field: str = "amount", *, positive: bool = True
) -> Decimal | None:
    """An amount of money in `currency`: a number with no more decimals than the currency
    has (no cents for the yen), above zero when `positive`."""
    number = parse_decimal(value)
    if number is None:
        errors[field] = [_("Enter an amount, such as 1250.50.")]
        return None
    if positive and number <= 0:
        errors[field] = [_("Enter an amount above zero.")]
        return None
    if abs(number) >= Decimal(10**12):
        errors[field] = [_("This amount is too large.")]
        return None
    if is_currency(currency) and round_money(number, currency) != number:
        errors[field] = [
            _("%(currency)s amounts are counted in steps of %(step)s.")
            % {"currency": currency, "step": step(currency)}
        ]
        return None
    return number


def clean_number(value: Any, errors: dict, field: str, *, low=Decimal(0), high=None):
    number = parse_decimal(value if value not in (None, "") else "0")
    if number is None or number < low or (high is not None and number > high):
        errors[field] = [
            _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}
            if high is not None
            else _("Enter a number of at least %(low)s.") % {"low": low}
        ]
        return None
    return number
