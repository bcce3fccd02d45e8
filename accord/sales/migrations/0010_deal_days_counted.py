"""The deals closed before the rollups existed, counted per day (the company's date)."""

import zoneinfo

from django.conf import settings
from django.db import migrations
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

BATCH = 5_000


def count(apps, schema_editor):
    Deal = apps.get_model("sales", "Deal")
    DealDay = apps.get_model("sales", "DealDay")
    profile = apps.get_model("core", "CompanyProfile").objects.filter(pk=1).first()
    try:
        zone = zoneinfo.ZoneInfo((profile and profile.time_zone) or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    grouped = (
        Deal.objects.filter(status__in=("won", "lost"), closed_at__isnull=False)
        .annotate(day=TruncDate("closed_at", tzinfo=zone))
        .values("day", "owner", "pipeline", "currency", "status")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by()
        .values_list("day", "owner", "pipeline", "currency", "status", "n", "total")
    )
    batch = []
    for day, owner, pipeline, currency, status, n, total in grouped.iterator(chunk_size=BATCH):
        batch.append(DealDay(day=day, owner_id=owner, pipeline_id=pipeline, currency=currency,
                             status=status, count=n, amount=total or 0))
        if len(batch) == BATCH:
            DealDay.objects.bulk_create(batch)
            batch = []
    DealDay.objects.bulk_create(batch)


def forget(apps, schema_editor):
    apps.get_model("sales", "DealDay").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0009_deal_days"),
        ("core", "0005_company_profile"),
    ]

    operations = [migrations.RunPython(count, forget)]
