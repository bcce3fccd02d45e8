"""Reports of money: income and expenses, invoices and payments."""

from collections import defaultdict
from decimal import Decimal
from statistics import median

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.billing.models import Invoice
from accord.billing.queries import income_and_expenses, invoices_visible_to
from accord.reports.catalog.base import (
    CYCLE_SAMPLE,
    Column,
    Figures,
    Scope,
    names_of,
    other_currencies,
    report,
    series_of,
)


@report("income", gettext_lazy("Income and expenses"),
        gettext_lazy("Money received (less refunds) and spent, per month."),
        ("bar", "number", "table"), filters=frozenset(), needs="invoices")  # fmt: skip
def income(scope: Scope) -> Figures:
    months = scope.period.as_months()
    found = {
        row["month"]: row
        for row in income_and_expenses(scope.user, start=scope.period.since,
                                       end=scope.period.until)
        if row["currency"] == scope.currency
    }  # fmt: skip
    rows = []
    for bucket in months.buckets():
        row = found.get(bucket, {})
        got, spent = row.get("income", Decimal(0)), row.get("expenses", Decimal(0))
        rows.append({"label": months.label(bucket), "income": got, "expenses": spent,
                     "result": got - spent})  # fmt: skip
    labels, series = series_of(rows, "label", ("income", _("Income")), ("expenses", _("Expenses")))
    return Figures(
        total_label=_("income less expenses"),
        columns=[Column("label", _("Month")), Column("income", _("Income"), "money"),
                 Column("expenses", _("Expenses"), "money"),
                 Column("result", _("Result"), "money")],
        rows=rows if any(r["income"] or r["expenses"] for r in rows) else [],
        labels=labels, series=series, total=sum(r["result"] for r in rows), total_kind="money",
    )  # fmt: skip


@report("invoices", gettext_lazy("Invoices and payments"),
        gettext_lazy("Per manager: invoices issued in the period, their sum, what is paid, what "
                     "is overdue, and the median days to pay."),
        ("bar", "number", "table"), needs="invoices", lower_better=True)  # fmt: skip
def invoices(scope: Scope) -> Figures:
    issued = (
        scope.owned(invoices_visible_to(scope.user))
        .filter(
            kind=Invoice.INVOICE,
            issued_on__gte=scope.period.since,
            issued_on__lte=scope.period.until,
        )
        .exclude(status=Invoice.CANCELLED)
    )
    mine = issued.filter(currency=scope.currency)
    grouped = mine.values("owner").annotate(
        n=Count("id"), issued=Sum("total"), got=Sum("paid"),
        overdue=Sum("total", filter=Q(status=Invoice.OVERDUE)),
    ).order_by("-issued")  # fmt: skip
    waits: dict = defaultdict(list)
    for owner, issued_on, paid_on in mine.filter(paid_on__isnull=False).values_list(
        "owner", "issued_on", "paid_on"
    )[:CYCLE_SAMPLE]:
        waits[owner].append(max((paid_on - issued_on).days, 0))
    found = list(grouped)
    names = names_of([row["owner"] for row in found])
    rows = [
        {"label": names.get(row["owner"], "—"), "invoices": row["n"], "total": row["issued"],
         "paid": row["got"], "overdue": row["overdue"] or Decimal(0),
         "days": median(waits[row["owner"]]) if waits[row["owner"]] else None}
        for row in found
    ]  # fmt: skip
    labels, series = series_of(rows, "label", ("total", _("Issued")), ("paid", _("Paid")))
    return Figures(
        total_label=_("issued and not yet paid"),
        columns=[Column("label", _("Who")), Column("invoices", _("Invoices"), "int"),
                 Column("total", _("Issued"), "money"), Column("paid", _("Paid"), "money"),
                 Column("overdue", _("Overdue"), "money"),
                 Column("days", _("Median days to pay"), "days")],
        rows=rows, labels=labels, series=series,
        total=sum((r["total"] or 0) - (r["paid"] or 0) for r in rows), total_kind="money",
        notes=other_currencies(issued, scope, "total"),
    )  # fmt: skip
