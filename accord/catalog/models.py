"""Products and services with a price (or a price formula from the deal's fields), price
lists per currency and client group, and personal discounts earned by past payments."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accord.core.models import Record


class Product(Record):
    KINDS = [("product", _("Product")), ("service", _("Service"))]

    name = models.CharField(_("name"), max_length=200)
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=KINDS, default="product")
    unit = models.CharField(_("unit"), max_length=20, default="pcs")
    price = models.DecimalField(_("price"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    tax_percent = models.DecimalField(_("tax, %"), max_digits=5, decimal_places=2, default=0)
    tax_included = models.BooleanField(_("tax included in the price"), default=False)
    # The unit price worked out from the deal's own number fields ("width * height * 4500").
    price_formula = models.CharField(_("price formula"), max_length=500, blank=True)
    active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True, max_length=2000)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sku"], condition=~models.Q(sku=""), name="product_sku_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class PriceList(models.Model):
    """Prices in one currency; for the clients of a group (a tag) or for everyone."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    currency = models.CharField(_("currency"), max_length=3)
    tag = models.ForeignKey(
        "contacts.Tag", verbose_name=_("client group (tag)"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    retired = models.BooleanField(_("retired"), default=False)

    class Meta:
        ordering = ["currency", "name", "id"]

    def __str__(self) -> str:
        return self.name


class PriceListItem(models.Model):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    price = models.DecimalField(_("price"), max_digits=14, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["price_list", "product"], name="price_list_product")
        ]

    def __str__(self) -> str:
        return f"{self.price_list_id}/{self.product_id}: {self.price}"


class DiscountRule(models.Model):
    """A personal discount: `percent` off for a client who paid at least `min_paid` in
    `currency` over the last `months` months ("5 % after 50,000 paid in 12 months")."""

    name = models.CharField(_("name"), max_length=100)
    percent = models.DecimalField(_("discount, %"), max_digits=5, decimal_places=2)
    min_paid = models.DecimalField(_("paid at least"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    months = models.PositiveSmallIntegerField(_("over the last months"), default=12)
    retired = models.BooleanField(_("retired"), default=False)

    class Meta:
        ordering = ["currency", "min_paid", "id"]

    def __str__(self) -> str:
        return self.name
