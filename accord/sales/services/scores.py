"""The learned win probabilities of open deals, written in batches (the reports' nightly
training scores every open deal at once): set, and taken away when there is no model."""

from datetime import datetime

from django.db import transaction

from accord.sales.models import DealScore

BATCH = 2000


@transaction.atomic
def deal_scores_set(*, scores: dict[int, tuple[float, list]], at: datetime) -> int:
    """Each deal's probability and factors; deals not named keep none (closed since)."""
    rows = [DealScore(deal_id=pk, probability=p, factors=f, scored_at=at)
            for pk, (p, f) in scores.items()]  # fmt: skip
    for start in range(0, len(rows), BATCH):
        DealScore.objects.bulk_create(
            rows[start : start + BATCH], update_conflicts=True, unique_fields=["deal"],
            update_fields=["probability", "factors", "scored_at"],
        )  # fmt: skip
    DealScore.objects.filter(scored_at__lt=at).delete()
    return len(rows)


@transaction.atomic
def deal_scores_clear() -> None:
    DealScore.objects.all().delete()
