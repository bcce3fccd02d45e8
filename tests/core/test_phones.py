"""Reading a phone number the quick way (by its digits, cached) must give exactly what
phonenumbers gives for the text as typed: the same E.164 number, or the same reason
why there is none. An import reads hundreds of thousands of numbers this way."""

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from accord.core import phones
from accord.core.phones import NOT_A_NUMBER, NOT_VALID, VALID, read_number, read_phone

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
# the regions of Accord's users, ones with odd rules (Italy's leading zero, Argentina's
# mobile prefix, Mexico's, a region sharing +1 or +7), and what is no region at all
ODD = ["RU", "IL", "AM", "LU", "DE", "KZ", "US", "CA", "IT", "AR", "MX", "BR", "GB", "SM",
       "VA", "CN", "JP", "IN", "001", "ru", "", "XX", None]  # fmt: skip
SEPARATOR = st.sampled_from([" ", "-", "(", ")", ".", "/", "", "", ""])


def typed(prefix: str, groups: list[str], seps: list[str]) -> str:
    return prefix + "".join(g + s for g, s in zip(groups, seps, strict=False)).strip()


@st.composite
def numbers(draw) -> str:
    """Digits as people type them: a plus, 00, 8 or nothing, groups and separators."""
    prefix = draw(st.sampled_from(["+", "+", "", "", "8", "00", "+0", "7", "810", "011"]))
    groups = draw(st.lists(st.text("0123456789", min_size=1, max_size=5), min_size=1, max_size=6))
    seps = draw(st.lists(SEPARATOR, min_size=len(groups), max_size=len(groups)))
    return typed(prefix, groups, seps)


def exactly(text: str, region: str | None) -> tuple[str, str]:
    """What the slow way answers: phonenumbers on the text itself, nothing cached."""
    return phones._read_text(text, region)


@settings(max_examples=3000, deadline=None)
@given(text=numbers(), region=st.sampled_from([*ODD, *REGIONS]))
@example(text="+7 (915) 123-45-67", region="RU")
@example(text="8 (915) 123-45-67", region="RU")
@example(text="8 (915) 123-45-67", region="IL")
@example(text="052-000-1007", region="RU")
@example(text="052-000-1007", region="IL")
@example(text="79151234567", region="RU")
@example(text="79151234567", region="KZ")
@example(text="+39 06 1234 5678", region="RU")
@example(text="06 1234 5678", region="IT")
@example(text="810 49 30 1234567", region="RU")
@example(text="+1234", region="US")
def test_the_quick_reading_gives_what_phonenumbers_gives(text, region):
    phones._read_digits.cache_clear()
    answer = read_number(text, region)
    assert answer == exactly(text, region)
    assert read_number(text, region) == answer  # and again, from the cache


def test_every_regions_example_numbers_read_alike_in_any_format_and_region():
    """Real numbers of every kind of every region phonenumbers knows, typed nationally,
    internationally and in E.164, read in their own region and in others."""
    formats = [phonenumbers.PhoneNumberFormat.NATIONAL,
               phonenumbers.PhoneNumberFormat.INTERNATIONAL,
               phonenumbers.PhoneNumberFormat.E164]  # fmt: skip
    compared = valid = 0
    for home in REGIONS:
        for kind in phonenumbers.PhoneNumberType.values():
            number = phonenumbers.example_number_for_type(home, kind)
            if number is None:
                continue
            for fmt in formats:
                text = phonenumbers.format_number(number, fmt)
                for region in (home, "RU", "US", "IL"):
                    answer = read_number(text, region)
                    assert answer == exactly(text, region), (text, region)
                    compared += 1
                    valid += answer[0] == VALID
    assert compared > 5000 and valid > compared / 3  # the comparison covered real numbers


def test_an_import_reads_the_numbers_the_way_it_did():
    """The outcomes an import sees: a valid number, one not valid in the row's country
    (kept as typed with the reason), and no number at all."""
    phones._read_digits.cache_clear()
    assert read_phone("8 (915) 123-45-67", "RU") == ("+79151234567", "")
    assert read_phone("+7 915 123 45 67", "IL") == ("+79151234567", "")
    kept, why = read_phone("052-000-1007", "RU")
    assert kept == "052-000-1007" and "not a valid phone number in Russia" in why
    assert read_number("052-000-1007", "RU") == (NOT_VALID, "")
    assert read_number("+0 12 345", "RU") == (NOT_A_NUMBER, "")
    with pytest.raises(phones.PhoneError, match="is not a phone number"):
        read_phone("call me", "RU")
    with pytest.raises(phones.PhoneError, match="is not a phone number"):
        read_phone("12-3", "RU")  # too few digits to keep as typed
