"""The activities logged before the rollups existed, counted per day (the company's date)."""

import zoneinfo

from django.conf import settings
from django.db import migrations
from django.db.models import Count
from django.db.models.functions import TruncDate

BATCH = 5_000


def count(apps, schema_editor):
    Activity = apps.get_model("work", "Activity")
    ActivityDay = apps.get_model("work", "ActivityDay")
    profile = apps.get_model("core", "CompanyProfile").objects.filter(pk=1).first()
    try:
        zone = zoneinfo.ZoneInfo((profile and profile.time_zone) or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    grouped = (
        Activity.objects.annotate(day=TruncDate("occurred_at", tzinfo=zone))
        .values("day", "actor", "kind")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("day", "actor", "kind", "n")
    )
    batch = []
    for day, actor, kind, n in grouped.iterator(chunk_size=BATCH):
        batch.append(ActivityDay(day=day, actor_id=actor, kind=kind, count=n))
        if len(batch) == BATCH:
            ActivityDay.objects.bulk_create(batch)
            batch = []
    ActivityDay.objects.bulk_create(batch)


def forget(apps, schema_editor):
    apps.get_model("work", "ActivityDay").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("work", "0008_activity_days"),
        ("core", "0005_company_profile"),
    ]

    operations = [migrations.RunPython(count, forget)]
