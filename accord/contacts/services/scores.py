"""The learned chances of leads to become clients, written in batches (the reports'
nightly training scores every lead at once), and taken away when there is no model."""

from datetime import datetime

from django.db import transaction

from accord.contacts.models import LeadScore

BATCH = 2000


@transaction.atomic
def lead_scores_set(*, scores: dict[int, tuple[float, list]], at: datetime) -> int:
    rows = [LeadScore(person_id=pk, probability=p, factors=f, scored_at=at)
            for pk, (p, f) in scores.items()]  # fmt: skip
    for start in range(0, len(rows), BATCH):
        LeadScore.objects.bulk_create(
            rows[start : start + BATCH], update_conflicts=True, unique_fields=["person"],
            update_fields=["probability", "factors", "scored_at"],
        )  # fmt: skip
    LeadScore.objects.filter(scored_at__lt=at).delete()  # those no longer leads
    return len(rows)


@transaction.atomic
def lead_scores_clear() -> None:
    LeadScore.objects.all().delete()
