"""Reads of marketing, scoped by the acting user's visibility: campaigns, and what each
cost. A campaign's cost is part of the campaign: whoever sees the campaign sees the
expenses that name it (marketing reads no other money)."""

from decimal import Decimal

from django.db.models import QuerySet, Sum

from accord.billing.models import Expense
from accord.core.money import STORED
from accord.core.visibility import scope
from accord.marketing.models import Campaign, Channel, Submission, Touch


def campaigns_visible_to(user, action: str = "read") -> QuerySet[Campaign]:
    return scope(
        Campaign.objects.select_related("channel", "owner"),
        user=user,
        record_type="campaigns",
        action=action,
    )


def channels_in_use() -> QuerySet[Channel]:
    return Channel.objects.filter(retired=False)


def campaign_spent(campaigns) -> dict[int, dict[str, Decimal]]:
    """What each of `campaigns` (already visible) cost, per currency."""
    spent: dict[int, dict[str, Decimal]] = {}
    rows = (
        Expense.objects.filter(campaign__in=campaigns)
        .values("campaign_id", "currency")
        .annotate(total=Sum("amount"))
    )
    for row in rows:
        spent.setdefault(row["campaign_id"], {})[row["currency"]] = row["total"].quantize(STORED)
    return spent


def campaign_expenses(campaign: Campaign):
    """The expenses naming `campaign` (already visible), newest first."""
    return (
        Expense.objects.filter(campaign=campaign)
        .select_related("category")
        .order_by("-spent_on", "-id")[:200]
    )


def person_touches(person) -> dict:
    """Where `person` (already visible) came from: the first and last touch, each deal's,
    and their latest web-form requests."""
    touches = list(
        Touch.objects.filter(person=person).select_related("channel", "campaign", "deal", "form")
    )
    requests = Submission.objects.filter(person=person).select_related("form", "deal")[:10]
    return {
        "first": next((t for t in touches if t.kind == Touch.FIRST and t.deal_id is None), None),
        "last": next((t for t in touches if t.kind == Touch.LAST and t.deal_id is None), None),
        "deals": [t for t in touches if t.deal_id is not None],
        "requests": list(requests),
    }
