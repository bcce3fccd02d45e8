"""What a product costs on a deal, and why: its price formula over the deal's number
fields, else the price list of the client's group (a tag) or the general one in the deal's
currency, else the product's own price; and the best personal discount the client has
earned by what they paid (billing tells, through `PAID_BY_CLIENT`)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.catalog.formulas import FormulaError, evaluate
from accord.catalog.models import DiscountRule, PriceListItem, Product
from accord.core.formats import money, short_date
from accord.sales.models import Deal

# Billing (above sales) answers what a client paid in a currency since a day: set at start-up.
PAID_BY_CLIENT: dict[str, Callable[..., Decimal]] = {}


@dataclass(frozen=True)
class Quote:
    unit_price: Decimal | None
    price_why: str  # "" for the product's own price
    discount_percent: Decimal | None
    discount_why: str


def quote(product: Product, deal: Deal) -> Quote:
    """The product's price and the client's discount on `deal`, each with its reason."""
    price, price_why = _price(product, deal)
    discount, discount_why = personal_discount(deal)
    return Quote(price, price_why, discount, discount_why)


def _price(product: Product, deal: Deal) -> tuple[Decimal | None, str]:
    if product.price_formula:
        try:
            price = evaluate(product.price_formula, _numbers(deal)).quantize(Decimal("0.01"))
        except FormulaError as error:
            raise ValidationError({"unit_price": [str(error)]}) from None
        except ArithmeticError:  # a result past what a price can hold
            raise ValidationError(
                {"unit_price": [_("The formula's result is too large.")]}
            ) from None
        why = _("By its formula: %(formula)s") % {"formula": product.price_formula}
        return price, why
    tags = _client_tags(deal)
    listed = (
        PriceListItem.objects.filter(product=product, price_list__currency=deal.currency,
                                     price_list__retired=False)
        .filter(Q(price_list__tag__isnull=True) | Q(price_list__tag__in=tags))
        .select_related("price_list", "price_list__tag")
        .order_by("price_list__tag", "price_list__name")  # a group's list before the general
    )  # fmt: skip
    item = next((i for i in listed if i.price_list.tag_id), None) or next(iter(listed), None)
    if item is not None:
        return item.price, _("Price list “%(name)s”") % {"name": item.price_list.name}
    if product.currency == deal.currency:
        return product.price, ""
    return None, ""


def personal_discount(deal: Deal) -> tuple[Decimal | None, str]:
    """The best discount rule the deal's client meets: (percent, why) or (None, "")."""
    paid_in = PAID_BY_CLIENT.get("paid")
    client = {"company": deal.company} if deal.company_id else {"person": deal.person}
    if paid_in is None or not (deal.company_id or deal.person_id):
        return None, ""
    rules = DiscountRule.objects.filter(retired=False, currency=deal.currency)
    best = None
    for rule in rules.order_by("-percent"):
        since = timezone.localdate() - timedelta(days=round(rule.months * 30.44))
        paid = paid_in(currency=deal.currency, since=since, **client)
        if paid >= rule.min_paid:
            best = (rule, paid, since)
            break
    if best is None:
        return None, ""
    rule, paid, since = best
    return rule.percent, _("Personal discount “%(rule)s”: %(paid)s paid since %(since)s") % {
        "rule": rule.name,
        "paid": money(paid, deal.currency),
        "since": short_date(since),
    }


def _numbers(deal: Deal) -> dict[str, Decimal]:
    values = {}
    for key, value in (deal.custom_fields or {}).items():
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            values[key] = Decimal(str(value))
        elif isinstance(value, str):
            try:
                number = Decimal(value.replace(",", "."))
            except ArithmeticError:
                continue
            if number.is_finite():
                values[key] = number
    return values


def _client_tags(deal: Deal) -> list[int]:
    tags = []
    for client in (deal.person, deal.company):
        if client is not None:
            tags += list(client.tags.values_list("pk", flat=True))
    return tags
