"""Writes of the catalogue: products and services (with their price formulas), price lists
and their prices, personal discount rules."""

from decimal import Decimal

from babel.numbers import list_currencies
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.catalog.formulas import FormulaError, names_in
from accord.catalog.models import DiscountRule, PriceList, Product
from accord.core.company import default_currency
from accord.core.custom_fields import active_fields
from accord.sales.services.common import clean_money, require_settings


@transaction.atomic
def product_save(*, actor: User, data: dict, product: Product | None = None) -> Product:
    require_settings(actor)
    errors: dict[str, list[str]] = {}
    name = str(data.get("name", product.name if product else "")).strip()
    if not name:
        errors["name"] = [_("Give the product a name.")]
    currency = str(
        data.get("currency", product.currency if product else default_currency())
    ).upper()
    if currency not in list_currencies():
        errors["currency"] = [
            _("“%(code)s” is not a currency code (e.g. EUR, RUB, ILS, AMD).") % {"code": currency}
        ]
    price = clean_money(data.get("price", product.price if product else ""), "price", errors)
    tax = clean_money(data.get("tax_percent", product.tax_percent if product else 0) or 0,
                      "tax_percent", errors, high=Decimal(100))  # fmt: skip
    kind = data.get("kind", product.kind if product else "product")
    if kind not in dict(Product.KINDS):
        errors["kind"] = [_("A product or a service.")]
    sku = str(data.get("sku", product.sku if product else "")).strip()[:64]
    if sku and Product.objects.filter(sku=sku).exclude(pk=product.pk if product else None).exists():
        errors["sku"] = [_("Another product has this SKU.")]
    if errors:
        raise ValidationError(errors)
    product = product or Product(created_by=actor)
    product.name, product.currency, product.price, product.kind, product.sku = (
        name[:200],
        currency,
        price,
        kind,
        sku,
    )
    product.unit = str(data.get("unit", product.unit or "pcs"))[:20] or "pcs"
    product.active = bool(data.get("active", product.active if product.pk else True))
    product.description = str(data.get("description", product.description))[:2000]
    product.price_formula = _formula(data.get("price_formula", product.price_formula))
    product.tax_percent = tax
    product.tax_included = bool(data.get("tax_included", product.tax_included))
    product.save()
    return product


def formula_fields() -> dict[str, str]:
    """The deal fields a price formula may use: the number and money ones, key → label."""
    return {f.key: f.label for f in active_fields("deal") if f.type in ("number", "money")}


def _formula(text) -> str:
    text = " ".join(str(text or "").split())[:500]
    if not text:
        return ""
    try:
        unknown = names_in(text) - set(formula_fields())
    except FormulaError as error:
        raise ValidationError({"price_formula": [str(error)]}) from None
    if unknown:
        raise ValidationError(
            {"price_formula": [
                _("Deals have no number field %(names)s; the formula may use: %(known)s.")
                % {"names": ", ".join(f"“{name}”" for name in sorted(unknown)),
                   "known": ", ".join(formula_fields()) or "—"}
            ]}
        )  # fmt: skip
    return text


@transaction.atomic
def price_list_save(*, actor: User, data: dict, price_list: PriceList | None = None) -> PriceList:
    """A price list's name, currency and client group (a tag, or none: everyone)."""
    require_settings(actor)
    errors: dict[str, list[str]] = {}
    name = str(data.get("name", price_list.name if price_list else "")).strip()[:100]
    if not name:
        errors["name"] = [_("Name the price list.")]
    elif (
        PriceList.objects.filter(name__iexact=name)
        .exclude(pk=price_list.pk if price_list else None)
        .exists()
    ):
        errors["name"] = [_("There is a price list with this name.")]
    currency = str(data.get("currency", price_list.currency if price_list else "")).upper()
    if currency not in list_currencies():
        errors["currency"] = [
            _("“%(code)s” is not a currency code (e.g. EUR, RUB, ILS, AMD).") % {"code": currency}
        ]
    if errors:
        raise ValidationError(errors)
    price_list = price_list or PriceList()
    price_list.name, price_list.currency = name, currency
    price_list.tag = data.get("tag", price_list.tag if price_list.pk else None)
    price_list.retired = bool(data.get("retired", price_list.retired))
    price_list.save()
    return price_list


@transaction.atomic
def price_list_prices(*, actor: User, price_list: PriceList, prices: dict[int, object]) -> int:
    """Set the list's price of each product named (an empty value takes it off the list);
    answers how many products the list prices."""
    require_settings(actor)
    errors: dict[str, list[str]] = {}
    chosen = {}
    for product_id, value in prices.items():
        if str(value or "").strip() == "":
            chosen[product_id] = None
            continue
        chosen[product_id] = clean_money(value, f"price_{product_id}", errors)
    if errors:
        raise ValidationError(errors)
    products = set(Product.objects.filter(pk__in=chosen).values_list("pk", flat=True))
    items = price_list.items
    items.filter(product_id__in=[pk for pk, price in chosen.items() if price is None]).delete()
    for product_id, price in chosen.items():
        if price is not None and product_id in products:
            items.update_or_create(product_id=product_id, defaults={"price": price})
    return items.count()


@transaction.atomic
def discount_rule_save(
    *, actor: User, data: dict, rule: DiscountRule | None = None
) -> DiscountRule:
    """ "5 % after 50,000 paid in 12 months": a personal discount every such client gets."""
    require_settings(actor)
    errors: dict[str, list[str]] = {}
    name = str(data.get("name", rule.name if rule else "")).strip()[:100]
    if not name:
        errors["name"] = [_("Name the discount.")]
    currency = str(data.get("currency", rule.currency if rule else "")).upper()
    if currency not in list_currencies():
        errors["currency"] = [
            _("“%(code)s” is not a currency code (e.g. EUR, RUB, ILS, AMD).") % {"code": currency}
        ]
    percent = clean_money(data.get("percent", rule.percent if rule else ""), "percent", errors,
                          low=Decimal("0.01"), high=Decimal(100))  # fmt: skip
    min_paid = clean_money(data.get("min_paid", rule.min_paid if rule else ""), "min_paid", errors)
    months = data.get("months", rule.months if rule else 12)
    if not str(months).isdecimal() or not 1 <= int(months) <= 120:
        errors["months"] = [_("Enter a number of months from 1 to 120.")]
    if errors:
        raise ValidationError(errors)
    rule = rule or DiscountRule()
    rule.name, rule.currency, rule.percent, rule.min_paid = name, currency, percent, min_paid
    rule.months = int(months)
    rule.retired = bool(data.get("retired", rule.retired))
    rule.save()
    return rule
