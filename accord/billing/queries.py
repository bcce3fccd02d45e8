"""Reads of money, scoped by the role's "Invoices" level (of the record's owner): the
invoices, payments and expenses lists, a deal's money, a client's credit, and the money
report — income and expenses per month, how fast the team bills and clients pay."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from statistics import median

from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from accord.billing.models import (
    Allocation,
    Expense,
    ExpenseCategory,
    Invoice,
    LoyaltyEntry,
    LoyaltyProgram,
    Payment,
)
from accord.core.visibility import READ, scope

RECORD_TYPE = "invoices"
REPORT_ROWS = 20_000  # the speed report reads at most this many invoices of its period


def client_filter(*, person=None, company=None) -> dict:
    """Whose money it is: the company when there is one (it pays), else the person."""
    return {"company": company} if company is not None else {"person": person, "company": None}


def invoices_visible_to(user, action: str = READ) -> QuerySet[Invoice]:
    return scope(Invoice.objects.all(), user=user, record_type=RECORD_TYPE, action=action)


def payments_visible_to(user, action: str = READ) -> QuerySet[Payment]:
    return scope(Payment.objects.all(), user=user, record_type=RECORD_TYPE, action=action)


def expenses_visible_to(user, action: str = READ) -> QuerySet[Expense]:
    return scope(Expense.objects.all(), user=user, record_type=RECORD_TYPE, action=action)


def categories_in_use() -> QuerySet[ExpenseCategory]:
    return ExpenseCategory.objects.filter(retired=False)


def invoice_list(user, *, status: str = "", query: str = "") -> QuerySet[Invoice]:
    invoices = invoices_visible_to(user).select_related("person", "company", "deal", "owner")
    if status == "unpaid":
        invoices = invoices.filter(kind=Invoice.INVOICE, status__in=Invoice.OPEN)
    elif status:
        invoices = invoices.filter(status=status)
    if query:
        invoices = invoices.filter(
            Q(number__icontains=query) | Q(person__full_name__icontains=query)
            | Q(company__name__icontains=query) | Q(deal__title__icontains=query)
        )  # fmt: skip
    return invoices


def deal_invoices(user, deal) -> list[Invoice]:
    return list(invoices_visible_to(user).filter(deal=deal).order_by("-created_at", "-id")[:100])


def client_invoices(user, *, person=None, company=None) -> list[Invoice]:
    invoices = invoices_visible_to(user).select_related("deal")
    invoices = invoices.filter(person=person) if person else invoices.filter(company=company)
    return list(invoices.order_by("-created_at", "-id")[:100])


def invoice_allocations(invoice: Invoice) -> list[Allocation]:
    return list(invoice.allocations.select_related("payment").order_by("created_at", "id"))


@dataclass(frozen=True)
class Margin:
    currency: str
    paid: Decimal
    spent: Decimal

    @property
    def margin(self) -> Decimal:
        return self.paid - self.spent


def deal_margin(deal) -> Margin:
    """What the deal's invoices were paid, less what was spent on it (in its currency;
    expenses in other currencies are not converted and not counted)."""
    paid = (
        Allocation.objects.filter(
            invoice__deal=deal, invoice__kind=Invoice.INVOICE, invoice__currency=deal.currency
        )
        .exclude(invoice__status=Invoice.CANCELLED)
        .aggregate(s=Sum("amount"))["s"]
    )
    spent = Expense.objects.filter(deal=deal, currency=deal.currency).aggregate(s=Sum("amount"))
    return Margin(deal.currency, paid or Decimal(0), spent["s"] or Decimal(0))


def income_and_expenses(user, *, start: date, end: date) -> list[dict]:
    """Per month and currency: money received (less refunds), money spent, and the rest."""
    months: dict = defaultdict(lambda: {"income": Decimal(0), "expenses": Decimal(0)})
    payments = (
        payments_visible_to(user)
        .filter(received_on__gte=start, received_on__lte=end)
        .annotate(month=TruncMonth("received_on"))
        .values("month", "currency", "kind")
        .annotate(total=Sum("amount"))
    )
    for row in payments:
        sign = 1 if row["kind"] == Payment.PAYMENT else -1
        months[(row["month"], row["currency"])]["income"] += sign * row["total"]
    spent = (
        expenses_visible_to(user)
        .filter(spent_on__gte=start, spent_on__lte=end)
        .annotate(month=TruncMonth("spent_on"))
        .values("month", "currency")
        .annotate(total=Sum("amount"))
    )
    for row in spent:
        months[(row["month"], row["currency"])]["expenses"] += row["total"]
    return [
        {"month": _as_date(month), "currency": currency, **sums,
         "result": sums["income"] - sums["expenses"]}
        for (month, currency), sums in sorted(months.items(), key=lambda item: item[0])
    ]  # fmt: skip


def _as_date(value) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def billing_speed(user, *, start: date, end: date) -> dict:
    """Days from a deal's win to its invoice, and from an invoice to its payment: the
    median and count per manager and per client, for invoices issued in the period."""
    rows = (
        invoices_visible_to(user)
        .filter(kind=Invoice.INVOICE, issued_on__gte=start, issued_on__lte=end)
        .exclude(status=Invoice.CANCELLED)
        .select_related("owner", "person", "company", "deal")
        .order_by("-issued_on")[:REPORT_ROWS]
    )
    by_owner: dict = defaultdict(lambda: {"to_invoice": [], "to_pay": [], "name": ""})
    by_client: dict = defaultdict(lambda: {"to_invoice": [], "to_pay": [], "name": ""})
    for invoice in rows:
        won = invoice.deal.closed_at.date() if invoice.deal and invoice.deal.closed_at else None
        to_invoice = (invoice.issued_on - won).days if won and won <= invoice.issued_on else None
        to_pay = (invoice.paid_on - invoice.issued_on).days if invoice.paid_on else None
        owner_key = invoice.owner_id or 0
        client = invoice.client
        client_key = (type(client).__name__, client.pk) if client else ("", 0)
        for bucket, key, name in (
            (by_owner, owner_key, invoice.owner.full_name if invoice.owner else ""),
            (by_client, client_key, str(client) if client else ""),
        ):
            bucket[key]["name"] = name
            if to_invoice is not None:
                bucket[key]["to_invoice"].append(to_invoice)
            if to_pay is not None:
                bucket[key]["to_pay"].append(to_pay)
            bucket[key].setdefault("count", 0)
            bucket[key]["count"] += 1
    return {"owners": _medians(by_owner), "clients": _medians(by_client)[:20]}


def _medians(bucket: dict) -> list[dict]:
    rows = [
        {"name": value["name"], "count": value["count"],
         "to_invoice": median(value["to_invoice"]) if value["to_invoice"] else None,
         "to_pay": median(value["to_pay"]) if value["to_pay"] else None}
        for value in bucket.values()
    ]  # fmt: skip
    return sorted(rows, key=lambda row: (-row["count"], row["name"]))


def client_paid(*, currency: str, since: date, person=None, company=None) -> Decimal:
    """What the client paid in `currency` since `since`, refunds taken off (a personal
    discount's measure; not scoped: it is the client's standing, not a user's view)."""
    rows = Payment.objects.filter(
        currency=currency, received_on__gte=since, **client_filter(person=person, company=company)
    )
    sums = dict(rows.values_list("kind").annotate(s=Sum("amount")))  # fmt: skip
    return (sums.get(Payment.PAYMENT) or Decimal(0)) - (sums.get(Payment.REFUND) or Decimal(0))


def loyalty_balance(*, person=None, company=None) -> int:
    """The client's points (the company's when there is one)."""
    entries = LoyaltyEntry.objects.filter(**client_filter(person=person, company=company))
    return entries.aggregate(s=Sum("points"))["s"] or 0


def redeemable_points(invoice: Invoice) -> dict | None:
    """The client's points and how many may pay `invoice`, when points can pay it."""
    program = LoyaltyProgram.current()
    if (
        program is None
        or invoice.status not in Invoice.OPEN
        or invoice.currency != program.currency
    ):
        return None
    balance = loyalty_balance(person=invoice.person, company=invoice.company)
    most = min(balance, int(invoice.due // program.point_value))
    return {"balance": balance, "most": most, "value": program.point_value} if most > 0 else None


def loyalty_history(*, person=None, company=None, limit: int = 20) -> list[LoyaltyEntry]:
    entries = LoyaltyEntry.objects.filter(**client_filter(person=person, company=company))
    return list(entries.select_related("invoice").order_by("-created_at", "-id")[:limit])


def unpaid_totals(user) -> list[dict]:
    """What clients owe per currency: all that is due, and the overdue part of it."""
    rows = (
        invoices_visible_to(user)
        .filter(kind=Invoice.INVOICE, status__in=Invoice.OPEN)
        .values("currency")
        .annotate(due=Sum(F("total") - F("paid")),
                  overdue=Sum(F("total") - F("paid"), filter=Q(status=Invoice.OVERDUE)))
        .order_by("currency")
    )  # fmt: skip
    return [{**row, "overdue": row["overdue"] or Decimal(0)} for row in rows]


def expense_for_source(source_key: str) -> Expense | None:
    """The expense an import made for this key before (a campaign's day), if any."""
    return Expense.objects.filter(source_key=source_key).first() if source_key else None
