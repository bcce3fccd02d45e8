"""Every write of the closed deals' daily rollups (`DealDay`): as a deal is saved, what it
counted for before (won or lost on a day, by an owner, in a pipeline and a currency, for
an amount) is taken off and what it counts for now is added — whichever service saved it
(won, lost, reopened, its amount, owner or pipeline changed); and all of them counted
again from the deals (an upgrade, a bulk load, a change of the company's clock)."""

from decimal import Decimal
from itertools import islice

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDate

from accord.core.company import company_date, zone_of
from accord.sales.models import Deal, DealDay

BATCH = 5_000
COUNTED = (Deal.WON, Deal.LOST)
FIELDS = ("status", "closed_at", "owner_id", "pipeline_id", "currency", "amount")


def _share(values: dict | None) -> tuple | None:
    """(key, amount) a deal's row counts for, or None (open, or not closed at a time)."""
    if values is None or values["status"] not in COUNTED or values["closed_at"] is None:
        return None
    key = (company_date(values["closed_at"]), values["owner_id"], values["pipeline_id"],
           values["currency"], values["status"])  # fmt: skip
    return key, values["amount"] or Decimal(0)


def remember(sender, instance: Deal, **kwargs) -> None:
    """Before a deal is saved (pre_save): what its stored row counts for."""
    stored = None
    if instance.pk is not None:
        stored = Deal.objects.filter(pk=instance.pk).values(*FIELDS).first()
    instance._counted_before = _share(stored)


def follow(sender, instance: Deal, raw: bool = False, **kwargs) -> None:
    """After it is saved (post_save): the rollups follow the change."""
    if raw:  # loaded from a fixture or a backup: the rollups come with it
        return
    before = getattr(instance, "_counted_before", None)
    after = _share({name: getattr(instance, name) for name in FIELDS})
    if before == after:
        return
    if before is not None:
        _add(before[0], -1, -before[1])
    if after is not None:
        _add(after[0], 1, after[1])


def _add(key: tuple, count: int, amount: Decimal) -> None:
    day, owner_id, pipeline_id, currency, status = key
    found = DealDay.objects.filter(day=day, owner_id=owner_id, pipeline_id=pipeline_id,
                                   currency=currency, status=status)  # fmt: skip
    change = {"count": F("count") + count, "amount": F("amount") + amount}
    if found.update(**change):
        return
    try:
        with transaction.atomic():
            DealDay.objects.create(day=day, owner_id=owner_id, pipeline_id=pipeline_id,
                                   currency=currency, status=status, count=count,
                                   amount=amount)  # fmt: skip
    except IntegrityError:  # made a moment ago by another process
        found.update(**change)


@transaction.atomic
def deal_days_rebuild() -> int:
    """Count every day again from the closed deals; answers how many rows it made."""
    DealDay.objects.all().delete()
    grouped = (
        Deal.objects.filter(status__in=COUNTED, closed_at__isnull=False)
        .annotate(day=TruncDate("closed_at", tzinfo=zone_of(None)))
        .values("day", "owner", "pipeline", "currency", "status")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by()
        .values_list("day", "owner", "pipeline", "currency", "status", "n", "total")
    )
    rows = (
        DealDay(day=day, owner_id=owner, pipeline_id=pipeline, currency=currency,
                status=status, count=n, amount=total or 0)
        for day, owner, pipeline, currency, status, n, total in grouped.iterator(chunk_size=BATCH)
    )  # fmt: skip
    made = 0
    while batch := list(islice(rows, BATCH)):
        DealDay.objects.bulk_create(batch)
        made += len(batch)
    return made


def on_time_zone_changed(event) -> None:
    """The company's clock moved: a deal closed near midnight may be another day's now."""
    deal_days_rebuild()
