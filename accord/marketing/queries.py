"""Reads of marketing, scoped by the acting user's visibility: campaigns, and what each
cost. A campaign's cost is part of the campaign: whoever sees the campaign sees the
expenses that name it (marketing reads no other money)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import batched

from django.db.models import Avg, Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.billing.models import Expense
from accord.comms.queries import mailing_replied
from accord.comms.services.mailings import mailing_counts
from accord.comms.tracking import mailing_tracking
from accord.contacts.queries import people_visible_to
from accord.core.formats import money
from accord.core.money import STORED
from accord.core.visibility import effective_level, scope
from accord.marketing.models import Campaign, Channel, Submission, Survey, Touch
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


def submissions_waiting(form) -> int:
    """How many of a form's requests wait for the worker to file them."""
    return form.submissions.filter(state=Submission.PENDING).count()


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

    def flag(self, currency: str, limit: Decimal | None) -> str:
        """Why to look at it ("" when nothing is wrong): it spends without selling, or a
        sale costs more than the limit the administrator set."""
        if self.wasted:
            return _("Spends without selling")
        per_sale = self.per_sale(currency)
        if limit and per_sale is not None and per_sale > limit:
            return _("A sale costs over %(limit)s") % {"limit": money(limit, currency)}
        return ""


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
    _count_deals(results, F("campaign_id"), only=list(results))
    return results


def _count_deals(results: dict, came, *, start=None, end=None, only=None) -> None:
    """Into `results`, keyed by the touch's `came` (its channel or campaign): the deals
    made from its requests, and those made later for its leads (a deal with no touch
    of its own keeps the attribution of the lead's first); within [start, end) when
    given, by when the request came or the deal was made; `only` those keys. Read from
    the touches to the deals they name, not deal by deal."""
    own = Touch.objects.filter(deal__isnull=False).annotate(came=came)
    if start is not None:
        own = own.filter(at__gte=start, at__lt=end)
    if only is not None:
        own = own.filter(came__in=only)
    own = own.values("came", status=F("deal__status"), currency=F("deal__currency"))
    rows = list(own.annotate(n=Count("id"), total=Sum("deal__amount")).order_by())
    # The later deals: from the leads' first touches to their people's deals (a query
    # per thousand people), those deals with no touch of their own.
    first: dict = {}  # person -> (at, id, came) of their earliest first touch
    leads = Touch.objects.filter(kind=Touch.FIRST, deal=None, person__isnull=False)
    for person, at, pk, key in leads.annotate(came=came).values_list("person", "at", "id", "came"):
        if person not in first or (at, pk) < first[person][:2]:
            first[person] = (at, pk, key)
    touched = set(Touch.objects.filter(deal__isnull=False).values_list("deal", flat=True))
    deals = Deal.objects.all()
    if start is not None:
        deals = deals.filter(created_at__gte=start, created_at__lt=end)
    for people in batched([p for p, facts in first.items() if facts[2] is not None], 900):
        for deal, person, status, currency, amount in deals.filter(person__in=people).values_list(
            "pk", "person", "status", "currency", "amount"
        ):
            key = first[person][2]
            if deal not in touched and (only is None or key in only):
                rows.append({"came": key, "status": status, "currency": currency, "n": 1,
                             "total": amount})  # fmt: skip
    for row in rows:
        found = results[row["came"]]
        found.deals += row["n"]
        if row["status"] == Deal.WON:
            found.won += row["n"]
            money = found.revenue.get(row["currency"], Decimal(0)) + row["total"]
            found.revenue[row["currency"]] = money.quantize(STORED)


def channel_results(user, since: date, until: date) -> list[tuple[Channel | None, Results]]:
    """What each channel brought over a period (inclusive, the company's dates): leads
    whose first visit came through it, deals made from its requests (and won, with their
    sum), and what the campaigns the user sees spent on it. None: leads whose channel is
    not known."""
    start = timezone.make_aware(datetime.combine(since, time.min))
    end = timezone.make_aware(datetime.combine(until + timedelta(days=1), time.min))
    found: dict[int | None, Results] = defaultdict(Results)
    channel = Coalesce("channel_id", "campaign__channel_id")
    touches = Touch.objects.filter(at__gte=start, at__lt=end).annotate(came=channel)
    leads = touches.filter(deal=None, kind=Touch.FIRST)
    for row in leads.values("came").annotate(n=Count("id")).order_by():
        found[row["came"]].leads += row["n"]
    _count_deals(found, channel, start=start, end=end)
    spent = (
        Expense.objects.filter(
            campaign__in=campaigns_visible_to(user).values("pk"),
            spent_on__gte=since,
            spent_on__lte=until,
        )
        .values("campaign__channel_id", "currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for row in spent:
        results = found[row["campaign__channel_id"]]
        results.spent[row["currency"]] = (
            results.spent.get(row["currency"], Decimal(0)) + row["total"]
        ).quantize(STORED)
    channels = Channel.objects.in_bulk([pk for pk in found if pk is not None])
    return [
        (channels.get(pk) if pk is not None else None, results) for pk, results in found.items()
    ]


def surveys_visible_to(user) -> QuerySet[Survey]:
    """Surveys are marketing's: whoever reads campaigns reads them."""
    if effective_level(user, "campaigns", "read") == "none":
        return Survey.objects.none()
    return Survey.objects.all()


def survey_answers(user, survey: Survey):
    """A survey's answers from the clients the user may see, newest first."""
    people = people_visible_to(user).values("pk")
    return (
        survey.invites.filter(answered_at__isnull=False, person__in=people)
        .select_related("person", "rated", "deal")
        .order_by("-answered_at", "-id")
    )


@dataclass
class SurveyFigures:
    asked: int = 0
    answered: int = 0
    average: float | None = None
    promoters: int = 0  # 9–10 (NPS), 5 stars
    detractors: int = 0  # 0–6 (NPS), 1–2 stars
    low: int = 0

    @property
    def nps(self) -> int | None:
        """Promoters' share less detractors', in points from −100 to 100."""
        if not self.answered:
            return None
        return round((self.promoters - self.detractors) * 100 / self.answered)

    @property
    def answer_rate(self) -> int | None:
        return round(self.answered * 100 / self.asked) if self.asked else None


def _score_groups(survey: Survey) -> tuple[Q, Q]:
    if survey.scale == Survey.NPS:
        return Q(score__gte=9), Q(score__lte=6)
    return Q(score=5), Q(score__lte=2)


def survey_figures(
    user, surveys, *, since=None, until=None, rated=None
) -> dict[int, SurveyFigures]:
    """Each survey's links sent, answers, average, promoters and detractors, low scores —
    counted over the clients the user may see (a period and the rated managers optional)."""
    people = people_visible_to(user).values("pk")
    found = {}
    for survey in surveys:
        invites = survey.invites.filter(person__in=people)
        if since is not None:
            invites = invites.filter(created_at__gte=since)
        if until is not None:
            invites = invites.filter(created_at__lt=until)
        if rated is not None:
            invites = invites.filter(rated__in=rated)
        promoters, detractors = _score_groups(survey)
        counts = invites.aggregate(
            asked=Count("id"), answered=Count("id", filter=Q(answered_at__isnull=False)),
            average=Avg("score"), promoters=Count("id", filter=promoters),
            detractors=Count("id", filter=detractors),
            low=Count("id", filter=Q(score__lte=survey.low_score)),
        )  # fmt: skip
        average = counts.pop("average")
        found[survey.pk] = SurveyFigures(
            **counts, average=round(float(average), 1) if average is not None else None
        )
    return found


def campaign_mailings(campaign) -> list:
    """The campaign's mailings with what each did: sent, opened and clicked (tracked ones),
    replied."""
    mailings = list(campaign.mailings.order_by("-created_at")[:50])
    for mailing in mailings:
        mailing.counts = mailing_counts(mailing)
        mailing.tracking = mailing_tracking(mailing)
        mailing.replied = mailing_replied(mailing)
    return mailings
