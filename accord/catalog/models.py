"""Products and services with a price; price lists and discounts come with billing."""

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
