"""`accord manage search_rebuild`: index every person and company again (after an upgrade
that changed what the search index holds, e.g. the last digits of phone numbers)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accord.contacts.models import Company, Person
from accord.contacts.services.common import reindex

BATCH = 1000


class Command(BaseCommand):
    help = "Index every person and company again, a thousand at a time."

    def handle(self, *args, **options):
        for model in (Person, Company):
            done, last = 0, 0
            while True:
                records = model.objects.filter(pk__gt=last).order_by("pk")
                if model is Person:
                    records = records.select_related("company")
                records = list(records.prefetch_related("contact_points", "tags")[:BATCH])
                if not records:
                    break
                with transaction.atomic():
                    for record in records:
                        reindex(record)
                done, last = done + len(records), records[-1].pk
            self.stdout.write(f"{model._meta.verbose_name_plural}: {done} indexed again")
