"""Reads of marketing, scoped by the acting user's visibility: campaigns, and what each
cost. A campaign's cost is part of the campaign: whoever sees the campaign sees the
expenses that name it (marketing reads no other money)."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from accord.billing.models import Expense
from accord.contacts.queries import people_visible_to
from accord.core.money import STORED
from accord.core.visibility import scope
from accord.marketing.models import Campaign, Channel, Submission, Touch
from accord.sales.models import Deal
from accord.sales.queries import deals_visible_to


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


def person_touches(user, person) -> dict:
    """Where `person` (already visible) came from: the earliest first touch and the latest
    last one (a merge may bring two), each deal's the user may see, and their latest
    web-form requests."""
    touches = list(
        Touch.objects.filter(person=person)
        .filter(Q(deal=None) | Q(deal__in=deals_visible_to(user).values("pk")))
        .select_related("channel", "campaign", "deal", "form")
        .order_by("at", "id")
    )
    own = [t for t in touches if t.deal_id is None]
    firsts = [t for t in own if t.kind == Touch.FIRST]
    lasts = [t for t in own if t.kind == Touch.LAST]
    requests = Submission.objects.filter(person=person).select_related("form")
    return {
        "first": firsts[0] if firsts else None,
        "last": lasts[-1] if lasts else None,
        "deals": [t for t in touches if t.deal_id is not None],
        "requests": list(requests.order_by("-created_at")[:10]),
    }


def submissions_visible_to(user, form):
    """A form's requests whose client the user may see (or that made no client)."""
    people = people_visible_to(user).values("pk")
    return form.submissions.filter(Q(person=None) | Q(person__in=people)).select_related("person")


@dataclass
class Results:
    """What a campaign brought: leads (clients whose first visit it was), deals made from
    its requests and those won, the won deals' sum per currency, and what it cost."""

    leads: int = 0
    deals: int = 0
    won: int = 0
    revenue: dict = field(default_factory=dict)
    spent: dict = field(default_factory=dict)

    def per_lead(self, currency: str) -> Decimal | None:
        cost = self.spent.get(currency)
        return (cost / self.leads).quantize(STORED) if cost and self.leads else None

    def per_sale(self, currency: str) -> Decimal | None:
        cost = self.spent.get(currency)
        return (cost / self.won).quantize(STORED) if cost and self.won else None

    def return_percent(self, currency: str) -> Decimal | None:
        """(revenue − cost) ÷ cost, in one currency: the return on what was spent."""
        cost = self.spent.get(currency)
        if not cost:
            return None
        gain = self.revenue.get(currency, Decimal(0)) - cost
        return (gain * 100 / cost).quantize(Decimal(1))

    @property
    def wasted(self) -> bool:
        """It spent and sold nothing: the channel to look at first."""
        return bool(self.spent) and not self.won


def campaign_results(campaigns) -> dict[int, Results]:
    """Each of `campaigns`' (already visible) results, in a few queries for the lot."""
    results = {campaign.pk: Results() for campaign in campaigns}
    for campaign_id, spent in campaign_spent(campaigns).items():
        results[campaign_id].spent = spent
    leads = (
        Touch.objects.filter(campaign__in=campaigns, kind=Touch.FIRST, deal=None)
        .values("campaign_id")
        .annotate(n=Count("id"))
    )
    for row in leads:
        results[row["campaign_id"]].leads = row["n"]
    deals = (
        Touch.objects.filter(campaign__in=campaigns, deal__isnull=False)
        .values("campaign_id", "deal__status", "deal__currency")
        .annotate(n=Count("id"), total=Sum("deal__amount"))
    )
    for row in deals:
        found = results[row["campaign_id"]]
        found.deals += row["n"]
        if row["deal__status"] == Deal.WON:
            found.won += row["n"]
            money = found.revenue.get(row["deal__currency"], Decimal(0)) + row["total"]
            found.revenue[row["deal__currency"]] = money.quantize(STORED)
    return results
