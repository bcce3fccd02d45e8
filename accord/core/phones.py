"""Phone numbers: stored in E.164 (+79123456789), typed in any format, shown nationally.

Matching calls and messages to clients depends on every number being stored one way.
"""

import functools
import re

import babel
import phonenumbers
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext as _

from accord.core.company import default_region as company_region

TYPED_NUMBER = re.compile(r"\+?[\d\s\-().\/]{1,40}")  # digits and what people put between them


class PhoneError(ValueError):
    """A phone number that cannot be read; the message says why, for the user."""


def default_region() -> str | None:
    """The company's country (Settings → Company), else ACCORD_PHONE_REGION."""
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
    outcome, e164 = read_number(text, region)
    if outcome == VALID:
        return e164
    if outcome == NOT_A_NUMBER:
        raise PhoneError(_("“%(number)s” is not a phone number.") % {"number": raw})
    if outcome == NOT_POSSIBLE:
        raise PhoneError(_("“%(number)s” has too few or too many digits.") % {"number": raw})
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


# What reading a number can come to: its E.164 form, or why there is none.
VALID, NOT_A_NUMBER, NOT_POSSIBLE, NOT_VALID = "valid", "not a number", "not possible", "not valid"
# A number typed with ASCII digits and the usual separators only: phonenumbers reads it
# exactly as its digits alone (the separators are punctuation to it), so the digits (and
# the plus) are the key of a cache and the input of the quicker reading below.
PLAIN_NUMBER = re.compile(r"\+?[0-9][0-9 \-().\/]*")
SEPARATORS = str.maketrans("", "", " -()./")
NOT_DIGITS = re.compile(r"\D")


def read_number(text: str, region: str | None) -> tuple[str, str]:
    """(VALID, E.164) or (why not, ""), for a stripped text with "00" already made "+".
    Plain numbers (the usual case: an import's hundred thousands) are read by their digits,
    a cache before a quicker way to the same answer as phonenumbers' `parse`; the rest
    (letters, other scripts' digits, extensions) by phonenumbers itself."""
    if PLAIN_NUMBER.fullmatch(text):
        digits = text.translate(SEPARATORS)
        if len(digits) >= 4:  # "+12", "12": phonenumbers reads 2–3 digits by their shape
            return _read_digits(digits, region)
    return _read_text(text, region)


def _read_text(text: str, region: str | None) -> tuple[str, str]:
    """The reading itself, by phonenumbers (`read_number`'s answer for any text)."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return NOT_A_NUMBER, ""
    return _judge(number)


def _judge(number: phonenumbers.PhoneNumber) -> tuple[str, str]:
    if not phonenumbers.is_possible_number(number):
        return NOT_POSSIBLE, ""
    if not phonenumbers.is_valid_number(number):
        return NOT_VALID, ""
    return VALID, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.lru_cache(maxsize=2**14)  # ~4 MB at most; a file's repeated numbers hit it
def _read_digits(digits: str, region: str | None) -> tuple[str, str]:
    number = quick_parse(digits, region)
    if number is None:  # a case the quick way leaves to phonenumbers
        return _read_text(digits, region)
    return _judge(number)


def quick_parse(digits: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    """phonenumbers' `parse` of ASCII digits (a "+" before them or not), without its
    search of a text for a number, its extensions and its per-character normalising — two
    thirds of its cost. None for what it leaves to `parse`: an international (IDD)
    prefix, an unknown country code, a region phonenumbers does not know, a length out of
    bounds. `tests/core/test_phones.py` checks it gives what `parse` gives."""
    pnu = phonenumbers.phonenumberutil
    if digits.startswith("+"):
        country, national = pnu._extract_country_code(digits[1:])
        if not country:
            return None
    else:
        if region not in phonenumbers.SUPPORTED_REGIONS:  # parse's own test: exact case
            return None
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region, None)
        if metadata is None or _idd(metadata).match(digits):
            return None
        country, national = _default_country(digits, metadata)
    if country:  # read off the number: the rules of the code's own (main) region apply
        main = phonenumbers.region_code_for_country_code(country)
        metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(country, main)
    else:
        country, national = metadata.country_code, digits
    if metadata is None or len(national) < pnu._MIN_LENGTH_FOR_NSN:
        return None
    _carrier, stripped, _ = pnu._maybe_strip_national_prefix_carrier_code(national, metadata)
    if pnu._test_number_length(stripped, metadata) not in (
        pnu.ValidationResult.TOO_SHORT,
        pnu.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
        pnu.ValidationResult.INVALID_LENGTH,
    ):
        national = stripped
    if not pnu._MIN_LENGTH_FOR_NSN <= len(national) <= pnu._MAX_LENGTH_FOR_NSN:
        return None
    number = phonenumbers.PhoneNumber(country_code=country, national_number=int(national))
    pnu._set_italian_leading_zeros_for_phone_number(national, number)
    return number


@functools.cache
def _idd_pattern(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def _idd(metadata) -> re.Pattern:
    return _idd_pattern(metadata.international_prefix or "NonMatch")


def _default_country(digits: str, metadata) -> tuple[int, str]:
    """The region's own country code typed without its plus (79123456789 in RU): as
    phonenumbers' `_maybe_extract_country_code` takes it off, or (0, "")."""
    pnu = phonenumbers.phonenumberutil
    code = str(metadata.country_code)
    if not digits.startswith(code):
        return 0, ""
    general = metadata.general_desc
    _carrier, rest, _ = pnu._maybe_strip_national_prefix_carrier_code(digits[len(code) :], metadata)
    if (
        not pnu._match_national_number(digits, general, False)
        and pnu._match_national_number(rest, general, False)
    ) or pnu._test_number_length(digits, metadata) == pnu.ValidationResult.TOO_LONG:
        return metadata.country_code, rest
    return 0, ""


def read_phone(raw: str, region: str | None = None) -> tuple[str, str]:
    """An imported number: (E.164, "") when it is valid in `region`, else (the number as
    typed, why it is not valid) — kept so the row is not lost, never made into another
    country's number. Raises PhoneError for text that is no number at all ("call me")."""
    try:
        return normalize_phone(raw, region), ""
    except PhoneError as error:
        text = raw.strip()
        if not TYPED_NUMBER.fullmatch(text) or len(NOT_DIGITS.sub("", text)) < 5:
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
    digits = sum(ch.isdecimal() for ch in raw)
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


def example_phone(region: str | None = None) -> str:
    """A mobile number of the company's country as people there type it (a phone field's
    placeholder): "+7 912 345-67-89" for Russia, "+972 50-234-5678" for Israel."""
    region = region if region is not None else default_region()
    mobile = phonenumbers.PhoneNumberType.MOBILE
    number = phonenumbers.example_number_for_type(region or "US", mobile)
    if number is None:
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
