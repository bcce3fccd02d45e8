"""The import's quicker checks answer exactly what Django's would: an address
`is_email` takes is one `validate_email` takes, and the other way round."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from accord.transfer.cleaning import is_email

PARTS = st.text("abcXYZ019._%+-'!#$&*/=?^`{|}~\"\\ @[]:;,()<>éж", max_size=12)
DOMAINS = st.sampled_from(["example.com", "mail.ru", "localhost", "[127.0.0.1]",
                           "[IPv6:::1]", "[300.1.1.1]", "ex_ample.com", "xn--e1afmkfd.xn--p1ai",
                           "пример.рф", "a.b", "a..b", "-a.com", "a-.com", "", "com",
                           "a" * 64 + ".com", "a." + "b" * 70])  # fmt: skip


def django_says(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


@settings(max_examples=3000, deadline=None)
@given(user=PARTS, at=st.sampled_from(["@", "@", "", "@@"]), domain=DOMAINS | PARTS)
@example(user="anna", at="@", domain="mail.ru")
@example(user='"anna smith"', at="@", domain="example.com")
@example(user="a" * 320, at="@", domain="example.com")
def test_is_email_agrees_with_django(user, at, domain):
    address = f"{user}{at}{domain}"
    assert is_email(address) == django_says(address)
    assert is_email(address) == django_says(address)  # and again, the domain remembered
