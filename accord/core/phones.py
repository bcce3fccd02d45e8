"""Phone numbers: stored in E.164 (+79123456789), typed in any format, shown nationally.

Matching calls and messages to clients depends on every number being stored one way.
"""

import functools
import re

import babel
import phonenumbers
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext as _

TYPED_NUMBER = re.compile(r"\+?[\d\s\-().\/]{1,40}")  # digits and what people put between them


class PhoneError(ValueError):
    """A phone number that cannot be read; the message says why, for the user."""


def default_region() -> str | None:
    """The company's country (Settings → Company), else ACCORD_PHONE_REGION."""
    # Not at the top: an import's cleaning process reads numbers with this module before
    # Django's models can be loaded (it is given the region instead of asking for it).
    from accord.core.company import default_region as company_region

    return company_region()


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
    if not phonenumbers.is_valid_number(number):
        # "Possible" only counts digits: 052-000-1007 (Israeli) read in RU would become
        # +70520001007, a number nobody has. Refuse it rather than store another country's.
        if text.startswith("+"):
            raise PhoneError(_("“%(number)s” is not a valid phone number.") % {"number": raw})
        raise PhoneError(
            _(
                "“%(number)s” is not a valid phone number in %(country)s: "
                "if it is from another country, add its code (+…)."
            )
            % {"number": raw, "country": country_name(region)}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def read_phone(raw: str, region: str | None = None) -> tuple[str, str]:
    """An imported number: (E.164, "") when it is valid in `region`, else (the number as
    typed, why it is not valid) — kept so the row is not lost, never made into another
    country's number. Raises PhoneError for text that is no number at all ("call me")."""
    try:
        return normalize_phone(raw, region), ""
    except PhoneError as error:
        text = raw.strip()
        if not TYPED_NUMBER.fullmatch(text) or sum(ch.isdigit() for ch in text) < 5:
            raise PhoneError(_("“%(number)s” is not a phone number.") % {"number": raw}) from None
        return text, str(error)


def country_name(code: str | None) -> str:
    """A country's name in the current language ("Israel", "Израиль"), or the code."""
    if not code:
        return ""
    return country_names().get(code.upper(), code.upper())


def country_names(language: str | None = None) -> dict[str, str]:
    """{ISO code: name} of the countries phone numbers know, in `language` (default: the
    current one)."""
    return _country_names(language or get_language() or "en")


@functools.cache
def _country_names(language: str) -> dict[str, str]:
    try:
        territories = babel.Locale.parse(to_locale(language)).territories
    except (ValueError, babel.UnknownLocaleError):
        territories = babel.Locale("en").territories
    return {code: territories.get(code, code) for code in sorted(phonenumbers.SUPPORTED_REGIONS)}


def country_code(text: str) -> str | None:
    """The ISO code a cell names: "IL", "il", "Israel", "Израиль", "ישראל", "Իսրայել"."""
    text = (text or "").strip()
    if len(text) == 2 and text.upper() in phonenumbers.SUPPORTED_REGIONS:
        return text.upper()
    return _codes_by_name().get(" ".join(text.casefold().replace("ё", "е").split()))


@functools.cache
def _codes_by_name() -> dict[str, str]:
    names = {"usa": "US", "uk": "GB", "russian federation": "RU", "рф": "RU", "сша": "US"}
    for language in ("en", "ru", "he", "hy"):
        for code, name in _country_names(language).items():
            names.setdefault(" ".join(name.casefold().replace("ё", "е").split()), code)
    return names


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
