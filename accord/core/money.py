"""Money: amounts are Decimal with an ISO 4217 currency, rounded as the currency rounds
(two places for most, none for the yen, three for the dinar)."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any

from babel.numbers import get_currency_precision, list_currencies


@cache
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def is_currency(code: str) -> bool:
    return code in _currencies()


STORED = Decimal("0.01")  # money columns keep two decimals


def step(currency: str) -> Decimal:
    """The currency's smallest unit as Accord keeps it: 0.01, or 1 for the yen (the
    dinars' thousandths are not kept: columns hold two decimals)."""
    return max(Decimal(1).scaleb(-get_currency_precision(currency)), STORED)


def round_money(amount: Decimal, currency: str) -> Decimal:
    return Decimal(amount).quantize(step(currency), rounding=ROUND_HALF_UP)


def parse_decimal(value: Any) -> Decimal | None:
    """A number as typed ("1 250,50", "1250.5"), or None when it is not one."""
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    text = str(value if value is not None else "").strip().replace("\u00a0", "").replace(" ", "")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    else:
        text = text.replace(",", "")
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def line_sums(line, currency: str) -> tuple[Decimal, Decimal]:
    """A sold line's sum without tax and with it (a deal's item, an invoice's line: anything
    with quantity, unit_price, discount_percent, tax_percent, tax_included), each rounded as
    the currency rounds: a price with the tax in it is split into its net and its tax; one
    without has the tax added."""
    gross = line.quantity * line.unit_price * (1 - line.discount_percent / 100)
    rate = line.tax_percent / 100
    if line.tax_included:
        total = round_money(gross, currency)
        return round_money(total / (1 + rate), currency), total
    net = round_money(gross, currency)
    return net, net + round_money(net * rate, currency)
