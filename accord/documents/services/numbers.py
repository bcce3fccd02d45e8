"""Document numbers: per kind and year ("INV-2026-0001"), with no gap and never twice."""

from django.db import IntegrityError, transaction
from django.db.models import F

from accord.documents.models import DocumentKind, NumberSequence


def next_number(kind: DocumentKind, year: int) -> str:
    """The kind's next number in `year`. Must run inside the transaction that stores the
    document: the sequence's row stays locked until it commits (concurrent documents of
    the kind wait their turn), and a rollback gives the number back."""
    assert transaction.get_connection().in_atomic_block, (
        "take a number inside the document's transaction"
    )
    rows = NumberSequence.objects.filter(kind=kind, year=year)
    if not rows.update(last=F("last") + 1):
        try:
            with transaction.atomic():  # the year's first: two may race to make its row
                NumberSequence.objects.create(kind=kind, year=year, last=1)
        except IntegrityError:
            rows.update(last=F("last") + 1)
    last = rows.values_list("last", flat=True).get()
    return f"{kind.prefix}-{year}-{last:04d}"
