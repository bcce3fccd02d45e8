"""What the worker's scheduler does for money on each tick: an invoice past its due date
becomes overdue, once (claimed by `overdue_notified_at`), and says so — the overdue
reminder blueprint listens."""

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from accord.billing.models import Invoice
from accord.billing.services.invoices import invoice_mark_overdue

BATCH = 500


def tick(now: datetime) -> int:
    today = timezone.localdate(now)
    marked = 0
    while True:
        with transaction.atomic():
            rows = Invoice.objects.filter(
                kind=Invoice.INVOICE, status__in=Invoice.OPEN, due_on__lt=today,
                overdue_notified_at=None,
            )  # fmt: skip
            if connection.features.has_select_for_update_skip_locked:
                rows = rows.select_for_update(skip_locked=True)  # two workers share the work
            due = list(rows.order_by("due_on", "pk")[:BATCH])
            for invoice in due:
                invoice_mark_overdue(invoice)
        marked += len(due)
        if len(due) < BATCH:
            return marked
