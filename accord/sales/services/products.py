"""Writes of the catalogue's products and services."""

from babel.numbers import list_currencies
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.catalog.models import Product
from accord.core.company import default_currency
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
    product.save()
    return product
