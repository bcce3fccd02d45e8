"""Every write of the activity rollups (`ActivityDay`): one more as each activity is
logged, and all of them counted again from the activities (after an upgrade, a restore,
or a change of the company's time zone, which moves the days' borders)."""

from itertools import islice

from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.db.models.functions import TruncDate

from accord.core.company import company_date, zone_of
from accord.work.models import Activity, ActivityDay

BATCH = 5_000


def activity_days_add(activity: Activity) -> None:
    """The activity just logged, counted on its day (inside its transaction)."""
    key = {"day": company_date(activity.occurred_at), "actor_id": activity.actor_id,
           "kind": activity.kind}  # fmt: skip
    if ActivityDay.objects.filter(**key).update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            ActivityDay.objects.create(**key, count=1)
    except IntegrityError:  # made a moment ago by another process
        ActivityDay.objects.filter(**key).update(count=F("count") + 1)


@transaction.atomic
def activity_days_rebuild() -> int:
    """Count every day again from the activities; answers how many rows it made."""
    ActivityDay.objects.all().delete()
    grouped = (
        Activity.objects.annotate(day=TruncDate("occurred_at", tzinfo=zone_of(None)))
        .values("day", "actor", "kind")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("day", "actor", "kind", "n")
    )
    rows = (
        ActivityDay(day=day, actor_id=actor, kind=kind, count=n)
        for day, actor, kind, n in grouped.iterator(chunk_size=BATCH)
    )
    made = 0
    while batch := list(islice(rows, BATCH)):
        ActivityDay.objects.bulk_create(batch)
        made += len(batch)
    return made


def on_time_zone_changed(event) -> None:
    """The company's clock moved: each activity's day may be another now."""
    activity_days_rebuild()
