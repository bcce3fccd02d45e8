"""Demo money: the won deals invoiced a few days after their win and mostly paid (some in
parts, one more than due, a few still waiting or overdue, one corrected by a credit note),
what was spent on them and the company's monthly costs — so the invoices list, a deal's
margin and the income-and-expenses report have a year of life."""

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accord.accounts.models import User
from accord.billing import scheduler
from accord.billing.models import ExpenseCategory, Invoice, Payment
from accord.billing.services import (
    expense_save,
    invoice_correct,
    invoice_from_deal,
    invoice_issue,
    invoice_save,
    payment_record,
    program_save,
)
from accord.billing.services.invoices import invoice_document
from accord.core.company import default_currency
from accord.documents.services.documents import document_make
from accord.sales.models import Deal
from accord.sales.services.products import discount_rule_save

INVOICED = 40  # the latest won deals with an owner get an invoice each
METHODS = [Payment.BANK, Payment.BANK, Payment.CARD, Payment.ONLINE, Payment.CASH]


def populate() -> None:
    if Invoice.objects.exists():
        return
    randomly = random.Random(19)
    today = timezone.localdate()
    categories = {c.name: c for c in ExpenseCategory.objects.all()}
    admin = User.objects.filter(role__slug="administrator").order_by("pk").first()
    if admin is not None:  # a point for each 10 paid, worth 0.50 on the next invoice
        program_save(actor=admin, data={"enabled": True, "currency": "EUR", "earn_per": "10",
                                        "point_value": "0.50"})  # fmt: skip
    won = list(
        Deal.objects.filter(status=Deal.WON, owner__isnull=False, amount__gt=0)
        .exclude(closed_at=None)
        .select_related("owner", "person", "company")
        .order_by("-closed_at")[:INVOICED]
    )
    made = []
    for index, deal in enumerate(sorted(won, key=lambda d: d.closed_at)):
        if deal.person is None and deal.company is None:
            continue
        latest = len(won) - index  # 1 for the latest won deal
        issued_on = min(timezone.localdate(deal.closed_at) + timedelta(randomly.randint(0, 4)),
                        today)  # fmt: skip
        if latest <= 3:  # the latest are invoiced this week: waiting, one paid in part
            issued_on = max(issued_on, today - timedelta(days=2 + latest))
        draft = invoice_from_deal(actor=deal.owner, deal=deal)
        invoice_save(actor=deal.owner, invoice=draft,
                     data={"due_on": issued_on + timedelta(days=14)})  # fmt: skip
        invoice = invoice_issue(actor=deal.owner, invoice=draft, issued_on=issued_on)
        made.append(invoice)
        if latest == 2:
            payment_record(actor=deal.owner, invoice=invoice, currency=invoice.currency,
                           amount=(invoice.total * Decimal("0.3")).quantize(Decimal("1")),
                           received_on=today, method=Payment.CARD)  # fmt: skip
        else:
            _pay(invoice, randomly, today, last=latest <= 3)
        materials = categories.get("Materials")
        if materials is not None and randomly.random() < 0.7:
            expense_save(
                actor=deal.owner,
                data={"deal": deal, "category": materials, "currency": deal.currency,
                      "amount": (deal.amount * Decimal("0.35")).quantize(Decimal("1")),
                      "spent_on": issued_on, "supplier": "Profile plant",
                      "description": "Frames and glass"},
            )  # fmt: skip
    # A price typed wrong on a paid invoice: cancelled by a credit note and issued again,
    # its payment set against the new one.
    wrong = Invoice.objects.filter(pk__in=[i.pk for i in made[:-3]], status=Invoice.PAID)
    wrong = wrong.order_by("-issued_on").first()
    if wrong is not None:
        invoice_issue(actor=wrong.owner, invoice=invoice_correct(actor=wrong.owner, invoice=wrong))
    _company_costs(categories, won[0].owner if won else None, today)
    if admin is not None:  # regular clients earn a discount on what they buy next
        discount_rule_save(
            actor=admin,
            data={"name": "Regular clients", "percent": "5", "min_paid": "1500", "currency": "EUR"},
        )
    for invoice in Invoice.objects.exclude(number=""):
        document = invoice_document(invoice)
        if document is not None:
            document_make(document.pk)
    scheduler.tick(timezone.now())


def _pay(invoice: Invoice, randomly: random.Random, today, *, last: bool) -> None:
    """Most are paid within three weeks, some in two parts; the latest wait; now and then
    one is not paid at all (overdue) or paid more than asked (credit)."""
    if last or randomly.random() < 0.1:
        return
    owner, total = invoice.owner, invoice.total
    first_day = invoice.issued_on + timedelta(days=randomly.randint(2, 20))
    if first_day > today:
        return
    method = randomly.choice(METHODS)
    if randomly.random() < 0.25:  # half now, the rest a week later
        half = (total / 2).quantize(Decimal("1"))
        payment_record(actor=owner, invoice=invoice, amount=half, currency=invoice.currency,
                       received_on=first_day, method=method)  # fmt: skip
        second = first_day + timedelta(days=7)
        if second <= today:
            payment_record(
                actor=owner,
                invoice=invoice,
                amount=total - half,
                currency=invoice.currency,
                received_on=second,
                method=method,
            )
        return
    extra = Decimal(100) if randomly.random() < 0.05 else Decimal(0)  # paid too much: credit
    payment_record(
        actor=owner,
        invoice=invoice,
        amount=total + extra,
        currency=invoice.currency,
        received_on=first_day,
        method=method,
        reference=f"PP {randomly.randint(100, 999)}",
    )


def _company_costs(categories: dict, actor, today) -> None:
    """Rent, salaries and advertising on the 5th of each of the last twelve months."""
    if actor is None:
        return
    currency = default_currency()
    monthly = [("Rent and office", Decimal(250)), ("Salaries", Decimal(900)),
               ("Advertising", Decimal(120))]  # fmt: skip
    for months_back in range(12):
        day = (today.replace(day=5) - timedelta(days=30 * months_back)).replace(day=5)
        if day > today:
            continue
        for name, amount in monthly:
            if name in categories:
                expense_save(
                    actor=actor,
                    data={
                        "category": categories[name],
                        "amount": amount,
                        "currency": currency,
                        "spent_on": day,
                    },
                )
