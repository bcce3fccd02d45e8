"""A deal's line items; the deal's amount is the sum of its items when it has any."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.core.timeline import timeline_record
from accord.sales.models import Deal, LineItem
from accord.sales.pricing import Quote, quote
from accord.sales.services.common import clean_money, require_write


def recompute_amount(deal: Deal) -> None:
    items = list(deal.line_items.all())
    deal.amount = sum((item.total for item in items), Decimal(0))
    deal.version += 1
    deal.save(update_fields=["amount", "version", "updated_at"])


@transaction.atomic
def line_item_save(
    *, actor: User, deal: Deal, data: dict, item: LineItem | None = None
) -> LineItem:
    """Add or change a line item; the deal's amount becomes the sum of its items."""
    deal = Deal.objects.select_for_update().get(pk=deal.pk)
    require_write(actor, deal)
    errors: dict[str, list[str]] = {}
    product = data.get("product")
    priced = quote(product, deal) if product is not None else Quote(None, "", None, "")
    if product is not None and priced.unit_price is None and "unit_price" not in data:
        errors["product"] = [
            _("The product is priced in %(currency)s, the deal in another currency.")
            % {"currency": product.currency}
        ]
    name = str(data.get("name") or (product.name if product else "")).strip()
    if not name:
        errors["name"] = [_("Name the item or pick a product.")]
    price = data.get("unit_price", priced.unit_price)
    discount = data.get("discount_percent", priced.discount_percent or 0)
    values = {
        "quantity": clean_money(
            data.get("quantity", 1), "quantity", errors, low=Decimal("0.001"), places=3
        ),
        "unit_price": clean_money(price if price is not None else "", "unit_price", errors),
        "discount_percent": clean_money(
            discount, "discount_percent", errors, high=Decimal("100.01")
        ),
        "tax_percent": clean_money(
            data.get("tax_percent", product.tax_percent if product else 0),
            "tax_percent",
            errors,
            high=Decimal("100.01"),
        ),
    }
    if errors:
        raise ValidationError(errors)
    if item is None:
        position = (deal.line_items.aggregate(n=Max("position"))["n"] or 0) + 1
        item = LineItem(deal=deal, position=position)
    item.product, item.name = product, name[:200]
    item.unit = str(data.get("unit") or (product.unit if product else ""))[:20]
    item.pricing = _pricing(data, priced)
    item.tax_included = bool(data.get("tax_included", product.tax_included if product else False))
    for field, value in values.items():
        setattr(item, field, value)
    item.save()
    recompute_amount(deal)
    timeline_record(
        subject=deal,
        kind="changed",
        actor=actor,
        data={"changes": [{"field": "amount", "old": None, "new": str(deal.amount)}]},
    )
    return item


def _pricing(data: dict, priced: Quote) -> str:
    """Why the item costs what it does: the reasons the quote gave for what was not typed."""
    reasons = []
    if "unit_price" not in data and priced.price_why:
        reasons.append(priced.price_why)
    if "discount_percent" not in data and priced.discount_percent:
        reasons.append(priced.discount_why)
    return "; ".join(reasons)[:300]


@transaction.atomic
def line_item_delete(*, actor: User, item: LineItem) -> None:
    deal = Deal.objects.select_for_update().get(pk=item.deal_id)
    require_write(actor, deal)
    item.delete()
    recompute_amount(deal)
