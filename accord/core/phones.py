"""Phone numbers: stored in E.164 (+79123456789), typed in any format, shown nationally.

Matching calls and messages to clients depends on every number being stored one way.
"""

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _


class PhoneError(ValueError):
    """A phone number that cannot be read; the message says why, for the user."""


def default_region() -> str | None:
    return settings.ACCORD_PHONE_REGION or None


def normalize_phone(raw: str, region: str | None = None) -> str:
    """'8 (912) 345-67-89' in region RU -> '+79123456789'. Raises PhoneError."""
    text = (raw or "").strip()
    if not text:
        raise PhoneError(_("Enter a phone number."))
    region = region if region is not None else default_region()
    if not text.startswith("+") and not text.startswith("00") and not region:
        raise PhoneError(
            _("Add the country code (e.g. +49 30 1234567): no default country is set.")
        )
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise PhoneError(_("“%(number)s” is not a phone number.") % {"number": raw}) from None
    if not phonenumbers.is_possible_number(number):
        raise PhoneError(_("“%(number)s” has too few or too many digits.") % {"number": raw})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def try_normalize_phone(raw: str) -> str | None:
    """The E.164 form when `raw` reads as a phone number, else None (for search)."""
    digits = sum(ch.isdigit() for ch in raw)
    if digits < 5:
        return None
    try:
        return normalize_phone(raw)
    except PhoneError:
        return None


def display_phone(e164: str, region: str | None = None) -> str:
    """National format for numbers of the default region, international for the rest."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    region = region if region is not None else default_region()
    if region and phonenumbers.region_code_for_number(number) == region:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
