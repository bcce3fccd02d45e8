"""Invoices (and the credit notes that correct them), their lines, the payments and
refunds allocated to them, expenses with their categories, and loyalty points."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accord.core.models import Record


class Invoice(Record):
    """An invoice from a deal's line items or typed by hand. A draft has no number; issuing
    numbers it and freezes it (a correction is a credit note and a new draft). Its status
    after issuing follows from what was allocated to it and from its due date."""

    INVOICE, CREDIT_NOTE = "invoice", "credit_note"
    KINDS = [(INVOICE, _("Invoice")), (CREDIT_NOTE, _("Credit note"))]
    DRAFT, ISSUED, PARTLY_PAID, PAID, OVERDUE, CANCELLED = (
        "draft", "issued", "partly_paid", "paid", "overdue", "cancelled",
    )  # fmt: skip
    STATUSES = [
        (DRAFT, _("Draft")),
        (ISSUED, _("Issued")),
        (PARTLY_PAID, _("Partly paid")),
        (PAID, _("Paid")),
        (OVERDUE, _("Overdue")),
        (CANCELLED, _("Cancelled")),
    ]
    OPEN = (ISSUED, PARTLY_PAID, OVERDUE)  # issued and waiting for money

    kind = models.CharField(_("kind"), max_length=12, choices=KINDS, default=INVOICE)
    number = models.CharField(_("number"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=STATUSES, default=DRAFT)
    deal = models.ForeignKey(
        "sales.Deal",
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invoices",
    )
    person = models.ForeignKey(
        "contacts.Person", verbose_name=_("person"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="invoices",
    )  # fmt: skip
    company = models.ForeignKey(
        "contacts.Company", verbose_name=_("company"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="invoices",
    )  # fmt: skip
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    currency = models.CharField(_("currency"), max_length=3)
    issued_on = models.DateField(_("issued"), null=True, blank=True)
    due_on = models.DateField(_("due date"), null=True, blank=True)
    paid_on = models.DateField(_("paid"), null=True, blank=True)
    subtotal = models.DecimalField(_("without tax"), max_digits=14, decimal_places=2, default=0)
    tax = models.DecimalField(_("tax"), max_digits=14, decimal_places=2, default=0)
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=0)
    paid = models.DecimalField(_("paid"), max_digits=14, decimal_places=2, default=0)
    corrects = models.ForeignKey(
        "self", verbose_name=_("corrects"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="corrections",
    )  # fmt: skip
    language = models.CharField(_("language"), max_length=10, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "number"],
                condition=~models.Q(number=""),
                name="invoice_number_unique",
            )
        ]
        indexes = [
            models.Index(fields=["status", "due_on"], name="invoice_status_due"),
            models.Index(fields=["-created_at", "-id"], name="invoice_created_keyset"),
            models.Index(fields=["deal", "-created_at"], name="invoice_deal"),
            models.Index(fields=["person", "currency"], name="invoice_person"),
            models.Index(fields=["company", "currency"], name="invoice_company"),
        ]

    def __str__(self) -> str:
        return self.number or gettext("Draft invoice")

    @property
    def due(self) -> Decimal:
        """What is still to pay (nothing for a draft, a cancelled invoice or a credit note)."""
        if self.status in (self.DRAFT, self.CANCELLED) or self.kind == self.CREDIT_NOTE:
            return Decimal(0)
        return max(self.total - self.paid, Decimal(0))

    @property
    def client(self):
        return self.company if self.person is None else self.person

    @property
    def days_overdue(self) -> int:
        if self.status != self.OVERDUE or self.due_on is None:
            return 0
        return (timezone.localdate() - self.due_on).days


class InvoiceLine(models.Model):
    """One line of an invoice, its sums stored as they were printed."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("name"), max_length=200)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, default=1)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)
    discount_percent = models.DecimalField(
        _("discount, %"), max_digits=5, decimal_places=2, default=0
    )
    tax_percent = models.DecimalField(_("tax, %"), max_digits=5, decimal_places=2, default=0)
    tax_included = models.BooleanField(_("tax included in the price"), default=False)
    net = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Payment(Record):
    """Money received from a client (or, as a refund, given back). Allocations say which
    invoices it pays; what is not allocated is the client's credit, never lost."""

    PAYMENT, REFUND = "payment", "refund"
    KINDS = [(PAYMENT, _("Payment")), (REFUND, _("Refund"))]
    CASH, CARD, BANK, ONLINE, POINTS = "cash", "card", "bank_transfer", "online", "points"
    METHODS = [(CASH, _("Cash")), (CARD, _("Card")), (BANK, _("Bank transfer")),
               (ONLINE, _("Online")), (POINTS, _("Loyalty points"))]  # fmt: skip
    RECEIVED = [CASH, CARD, BANK, ONLINE]  # money that came in (points are redeemed)

    kind = models.CharField(_("kind"), max_length=8, choices=KINDS, default=PAYMENT)
    method = models.CharField(_("method"), max_length=16, choices=METHODS, default=BANK)
    received_on = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    allocated = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    person = models.ForeignKey(
        "contacts.Person", verbose_name=_("person"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="payments",
    )  # fmt: skip
    company = models.ForeignKey(
        "contacts.Company", verbose_name=_("company"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="payments",
    )  # fmt: skip
    deal = models.ForeignKey(
        "sales.Deal", verbose_name=_("deal"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="payments",
    )  # fmt: skip
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    refund_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )  # a refund out of this payment's credit

    class Meta:
        ordering = ["-received_on", "-id"]
        indexes = [
            models.Index(fields=["-received_on", "-id"], name="payment_received_keyset"),
            models.Index(fields=["person", "currency"], name="payment_person"),
            models.Index(fields=["company", "currency"], name="payment_company"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    @property
    def unallocated(self) -> Decimal:
        return self.amount - self.allocated

    @property
    def client(self):
        return self.company if self.person is None else self.person


class Allocation(models.Model):
    """Part of a payment set against an invoice: `amount` in the invoice's currency (at
    `rate` when the payment came in another), `payment_amount` in the payment's. A refund's
    allocations are negative: they take back what was paid."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="allocations")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    payment_amount = models.DecimalField(max_digits=14, decimal_places=2)
    rate = models.DecimalField(max_digits=18, decimal_places=8, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.invoice_id}: {self.amount}"


class ExpenseCategory(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    position = models.PositiveSmallIntegerField(default=0)
    retired = models.BooleanField(_("retired"), default=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return gettext(self.name)  # the shipped names are in the catalogues


class Expense(Record):
    """Money spent: on a deal (its margin), on a marketing campaign (its cost), or the
    company's in general, by category."""

    spent_on = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    category = models.ForeignKey(
        ExpenseCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="+"
    )
    deal = models.ForeignKey(
        "sales.Deal", verbose_name=_("deal"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="expenses",
    )  # fmt: skip
    # The campaign it paid for: marketing (a floor above) counts it in the campaign's cost.
    campaign = models.ForeignKey(
        "marketing.Campaign", verbose_name=_("campaign"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="expenses",
    )  # fmt: skip
    supplier = models.CharField(_("supplier"), max_length=200, blank=True)
    description = models.CharField(_("description"), max_length=500, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    # One day's spend of a campaign read from an ad platform's file ("ads:<campaign>:<day>"):
    # importing the file again sets that day's amount instead of adding it twice.
    source_key = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["-spent_on", "-id"]
        indexes = [models.Index(fields=["-spent_on", "-id"], name="expense_spent_keyset")]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key"], condition=~models.Q(source_key=""), name="expense_source"
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


class LoyaltyProgram(models.Model):
    """The company's one loyalty programme: a point for each `earn_per` paid in `currency`,
    each point worth `point_value` when redeemed on an invoice."""

    enabled = models.BooleanField(_("clients earn points"), default=False)
    currency = models.CharField(_("currency"), max_length=3)
    earn_per = models.DecimalField(_("one point for each"), max_digits=14, decimal_places=2,
                                   default=100)  # fmt: skip
    point_value = models.DecimalField(_("a point is worth"), max_digits=14, decimal_places=2,
                                      default=1)  # fmt: skip

    def __str__(self) -> str:
        return f"{self.earn_per} {self.currency} → 1"

    @classmethod
    def current(cls) -> "LoyaltyProgram | None":
        return cls.objects.filter(pk=1, enabled=True).first()


class LoyaltyEntry(models.Model):
    """Points a client earned by a payment or redeemed on an invoice; a payment removed or
    refunded reverses what it earned (or gives back what it redeemed)."""

    EARNED, REDEEMED, REVERSED = "earned", "redeemed", "reversed"
    KINDS = [(EARNED, _("Earned")), (REDEEMED, _("Redeemed")), (REVERSED, _("Reversed"))]

    person = models.ForeignKey(
        "contacts.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    company = models.ForeignKey(
        "contacts.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=KINDS)
    points = models.IntegerField()  # negative when redeemed or taken back
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="loyalty"
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["person", "-created_at"], name="loyalty_person"),
            models.Index(fields=["company", "-created_at"], name="loyalty_company"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.points}"
