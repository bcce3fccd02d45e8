"""An amount in words, as invoices in Russia, Israel and Armenia write it: num2words for
Russian, Hebrew and English; Armenian (which num2words does not have) written here."""

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision
from num2words import num2words

UNITS = ["", "մեկ", "երկու", "երեք", "չորս", "հինգ", "վեց", "յոթ", "ութ", "ինը"]
TENS = [
    "",
    "տաս",
    "քսան",
    "երեսուն",
    "քառասուն",
    "հիսուն",
    "վաթսուն",
    "յոթանասուն",
    "ութսուն",
    "իննսուն",
]
SCALES = [(10**9, "միլիարդ"), (10**6, "միլիոն"), (1000, "հազար")]
# Armenian names a currency in the singular after any number.
ARMENIAN_CURRENCIES = {
    "AMD": ("դրամ", "լումա"),
    "USD": ("ԱՄՆ դոլար", "ցենտ"),
    "EUR": ("եվրո", "ցենտ"),
    "RUB": ("ռուբլի", "կոպեկ"),
}


def amount_in_words(amount: Decimal, currency: str, language: str) -> str:
    """ "twelve thousand, three hundred and forty-five dollars, sixty-seven cents"; where
    the language has no words for the currency, the whole units in words, then the code
    and the minor units in digits ("… AMD 67")."""
    precision = get_currency_precision(currency)
    amount = Decimal(amount).quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP)
    whole = int(amount)
    minor = int((amount - whole).scaleb(precision)) if precision else 0
    base = language.split("-")[0]
    if base == "hy":
        return _armenian_amount(whole, minor, currency, precision)
    try:
        return num2words(amount, lang=base, to="currency", currency=currency)
    except (NotImplementedError, KeyError):
        pass
    try:
        words = num2words(whole, lang=base)
    except NotImplementedError:
        words = num2words(whole, lang="en")
    return f"{words} {currency}" + (f" {minor:0{precision}d}" if precision else "")


def armenian(number: int) -> str:
    """A whole number in Armenian words: 12345 → տասներկու հազար երեք հարյուր քառասունհինգ."""
    if number == 0:
        return "զրո"
    words: list[str] = []
    for size, name in SCALES:
        count, number = divmod(number, size)
        if count:
            words += ([] if count == 1 and size == 1000 else [armenian(count)]) + [name]
    if number:
        words.append(_below_thousand(number))
    return " ".join(words)


def _below_thousand(number: int) -> str:
    hundreds, rest = divmod(number, 100)
    words = []
    if hundreds:
        words += ([] if hundreds == 1 else [UNITS[hundreds]]) + ["հարյուր"]
    if rest:
        tens, units = divmod(rest, 10)
        if tens == 1:
            words.append("տասը" if units == 0 else "տասն" + UNITS[units])
        else:
            words.append(TENS[tens] + UNITS[units])
    return " ".join(words)


def _armenian_amount(whole: int, minor: int, currency: str, precision: int) -> str:
    major_name, minor_name = ARMENIAN_CURRENCIES.get(currency, (currency, ""))
    text = f"{armenian(whole)} {major_name}"
    if precision and minor_name:
        text += f" {armenian(minor)} {minor_name}"
    elif precision:
        text += f" {minor:0{precision}d}"
    return text
