"""Reads of the sales funnel, always scoped to the deals the acting user may see."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import (
    Case,
    Count,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils.translation import gettext as _

from accord.contacts.queries import (
    companies_visible_to,
    filter_clients,
    people_visible_to,
    segments_visible_to,
)
from accord.core.pagination import Page, keyset_page
from accord.core.visibility import ALL, READ, effective_level, scope
from accord.sales.models import Deal, DealDay, Pipeline, Stage, StageMove

RECORD_TYPE = "deals"
BOARD_PAGE = 50


def deal_days_visible_to(user, since: datetime.date, until: datetime.date) -> QuerySet[DealDay]:
    """The daily counts of the closed deals the user may see (by their owners), from
    `since` to `until` (company dates)."""
    days = DealDay.objects.filter(day__gte=since, day__lte=until)
    return scope(days, user=user, record_type=RECORD_TYPE)


def deals_visible_to(user, action: str = READ) -> QuerySet[Deal]:
    return scope(
        Deal.objects.select_related("person", "company", "owner", "stage", "pipeline"),
        user=user,
        record_type=RECORD_TYPE,
        action=action,
    )


def search_deals(user, query: str, limit: int = 20) -> list[Deal]:
    """The deals `user` may see whose title holds every word typed, open ones first, the
    latest changed first (a picker's answer)."""
    deals = deals_visible_to(user)
    for word in query.split()[:5]:
        deals = deals.filter(title__icontains=word)
    open_first = Case(When(status=Deal.OPEN, then=Value(0)), default=Value(1))
    return list(deals.order_by(open_first, "-updated_at")[:limit])


def pipelines_for(user) -> QuerySet[Pipeline]:
    if not user.is_authenticated or not user.is_active:
        return Pipeline.objects.none()
    return Pipeline.objects.filter(retired=False)


@dataclass
class Column:
    stage: Stage
    count: int
    total: Decimal
    cards: list
    next_cursor: str | None = None


def board(user, pipeline: Pipeline, deals: QuerySet | None = None) -> list[Column]:
    """Each active stage with its visible deals' count and sum and its first cards.

    One grouped query for all the counts and sums, then one per open column for its
    first cards (an index range on (stage, board_rank)), whatever the number of deals;
    the rest of a column comes page by page from `board_cards` as it is scrolled.
    """
    deals = deals if deals is not None else deals_visible_to(user)
    stages = list(pipeline.stages.filter(retired=False).order_by("position", "id"))
    totals = stage_totals(deals, pipeline.pk)
    columns = []
    for stage in stages:
        row = totals.get(stage.pk, {"n": 0, "total": Decimal(0)})
        page = board_cards(deals, stage) if stage.kind == Stage.OPEN and row["n"] else None
        columns.append(
            Column(
                stage,
                row["n"],
                row["total"] or Decimal(0),
                page.items if page else [],
                page.next_cursor if page else None,
            )
        )
    mark_next_steps([card for column in columns for card in column.cards])
    return columns


def stage_totals(deals: QuerySet, pipeline_id: int, stages: list | None = None) -> dict:
    """{stage id: {"n", "total"}} of the open deals among `deals`: one grouped query."""
    open_deals = deals.filter(pipeline_id=pipeline_id, status=Stage.OPEN).order_by()
    if stages is not None:
        open_deals = open_deals.filter(stage__in=stages)
    return {
        row["stage_id"]: row
        for row in open_deals.values("stage_id").annotate(n=Count("id"), total=Sum("amount"))
    }


def column_heads(deals: QuerySet, stages: list[Stage]) -> list[Column]:
    """The count and sum of these open stages' columns (no cards), as the board shows
    them over `deals`: what a drop changes."""
    totals = stage_totals(deals, stages[0].pipeline_id, stages) if stages else {}
    columns = []
    for stage in stages:
        row = totals.get(stage.pk, {"n": 0, "total": None})
        columns.append(Column(stage, row["n"], row["total"] or Decimal(0), []))
    return columns


def board_card(deals: QuerySet, deal_id: int) -> Deal | None:
    """One open deal's card as the board shows it; None when the board's filters leave
    it out."""
    card = (
        deals.filter(pk=deal_id, status=Stage.OPEN)
        .select_related(None)
        .select_related("person", "company", "owner")
        .only(*CARD_FIELDS)
        .first()
    )
    if card is not None:
        mark_next_steps([card])
    return card


def mark_next_steps(deals: list) -> list:
    """Set `has_next_step` (an open task is planned) on each deal: one query for them all.
    (As a correlated EXISTS per card, PostgreSQL chose to hash every open task instead.)"""
    task = apps.get_model("work", "Task")
    planned = set(
        task.objects.filter(deal_id__in=[d.pk for d in deals], status="open").values_list(
            "deal_id", flat=True
        )
    )
    for deal in deals:
        deal.has_next_step = deal.pk in planned
    return deals


@dataclass
class ClientDeals:
    """A client's deals as its card lists them: open ones first, then won, then lost."""

    open: list
    won: list
    lost: list
    more: bool  # some are left out: the deal list shows them all

    def __bool__(self) -> bool:
        return bool(self.open or self.won or self.lost)


CLIENT_DEALS = 20  # of each status on a card


def client_deals(user, *, person=None, company=None) -> ClientDeals:
    """The visible deals of a person, or of a company and its people; each open deal
    with its `next_step` (the first open task, or None)."""
    deals = deals_visible_to(user)
    if person is not None:
        deals = deals.filter(person=person)
    else:
        deals = deals.filter(Q(company=company) | Q(person__company=company))
    open_deals = list(
        deals.filter(status=Stage.OPEN).order_by(
            F("expected_close_date").asc(nulls_last=True), "-id"
        )[: CLIENT_DEALS + 1]
    )
    closed = {
        status: list(
            deals.filter(status=status)
            .select_related("lost_reason")
            .order_by("-closed_at", "-id")[: CLIENT_DEALS + 1]
        )
        for status in (Stage.WON, Stage.LOST)
    }
    more = any(len(part) > CLIENT_DEALS for part in (open_deals, *closed.values()))
    open_deals = open_deals[:CLIENT_DEALS]
    _mark_first_tasks(open_deals)
    return ClientDeals(open_deals, closed[Stage.WON][:CLIENT_DEALS],
                       closed[Stage.LOST][:CLIENT_DEALS], more)  # fmt: skip


def _mark_first_tasks(deals: list) -> None:
    """Set `next_step` on each deal: its open task due first (one query for them all)."""
    task = apps.get_model("work", "Task")  # work is above sales: read by name, not imported
    first: dict[int, object] = {}
    planned = task.objects.filter(deal_id__in=[d.pk for d in deals], status="open")
    for step in planned.order_by(F("due_at").asc(nulls_last=True), "id").only(
        "id", "deal_id", "title", "due_at", "all_day"
    ):
        first.setdefault(step.deal_id, step)
    for deal in deals:
        deal.next_step = first.get(deal.pk)


def board_cards(deals: QuerySet, stage: Stage, cursor: str | None = None) -> Page:
    """The next cards of one column, in board order (InvalidCursor on a foreign cursor)."""
    column = (
        deals.filter(stage=stage)
        .select_related(None)
        .select_related("person", "company", "owner")
        .only(*CARD_FIELDS)
    )
    return keyset_page(column, sort="board_rank", cursor=cursor, limit=BOARD_PAGE)


# What a board card shows: fewer columns and no stage or pipeline objects per card.
CARD_FIELDS = [
    "id", "title", "amount", "currency", "stage_id", "stage_entered_at", "version",
    "board_rank", "person__full_name", "company__name", "owner__full_name", "owner__email",
]  # fmt: skip


@dataclass
class FunnelRow:
    stage: Stage
    entered: int
    moved_on: int
    lost_from: int
    conversion: float | None  # share of those entering who reached a later stage
    median_days: float | None
    never_loses: bool
    skipped: bool


HOUR, DAY = 3600, 86400


def funnel(user, pipeline: Pipeline, since, until) -> list[FunnelRow]:
    """For each stage: deals entering it in the period, how many went further, median time
    spent in it, and the warning signs of a redundant stage. A deal moved back into a stage
    enters it again and counts again.

    Seen whole (the "all deals" level), it reads indexes only and never groups the period's
    moves, whatever their number: one query counts the moves of each (stage left, stage
    entered) pair over index `stage_move_pair`, and the median of each stage is the middle
    entry of its moves ordered by time spent, found by position in `stage_move_time`.
    Seen in part, the visible deals' moves are grouped (by the hour spent, for the median).
    """
    stages = list(pipeline.stages.order_by("position", "id"))
    moves = StageMove.objects.filter(pipeline=pipeline, moved_at__gte=since, moved_at__lt=until)
    if effective_level(user, RECORD_TYPE, READ) == ALL:
        pairs, medians = _whole_funnel(moves, stages)
    else:
        visible_ids = deals_visible_to(user).filter(pipeline=pipeline).values("pk")
        pairs, medians = _visible_funnel(moves.filter(deal__in=visible_ids))
    lost_ids = {s.pk for s in stages if s.kind == Stage.LOST}
    entered: dict[int, int] = {}
    left: dict[int, int] = {}
    lost_from: dict[int, int] = {}
    for (from_id, to_id), n in pairs.items():
        entered[to_id] = entered.get(to_id, 0) + n
        if from_id is None:
            continue
        if to_id in lost_ids:
            lost_from[from_id] = lost_from.get(from_id, 0) + n
        else:
            left[from_id] = left.get(from_id, 0) + n
    rows = []
    for stage in stages:
        came = entered.get(stage.pk, 0)
        onward = left.get(stage.pk, 0)
        middle = medians.get(stage.pk)
        rows.append(
            FunnelRow(
                stage=stage,
                entered=came,
                moved_on=onward,
                lost_from=lost_from.get(stage.pk, 0),
                conversion=round(onward / came, 3) if came and stage.kind == Stage.OPEN else None,
                median_days=round(middle / DAY, 1) if middle is not None else None,
                never_loses=stage.kind == Stage.OPEN and came > 0 and not lost_from.get(stage.pk),
                skipped=stage.kind == Stage.OPEN and came == 0 and sum(entered.values()) > 0,
            )
        )
    return rows


def _whole_funnel(moves: QuerySet, stages: list[Stage]) -> tuple[dict, dict]:
    """Pair counts from one query of counting subqueries, medians by position."""
    open_ids = [s.pk for s in stages if s.kind == Stage.OPEN]
    wanted = {
        f"p_{from_id or 0}_{stage.pk}": {"from_stage": from_id, "to_stage": stage.pk}
        for from_id in [None, *open_ids]
        for stage in stages
        if stage.pk != from_id
    }
    wanted.update({f"untimed_{pk}": {"from_stage": pk, "seconds_in_from": None} for pk in open_ids})
    found = _counts(moves, wanted)
    pairs = {}
    for name, n in found.items():
        if name.startswith("p_") and n:
            from_id, to_id = (int(part) for part in name[2:].split("_"))
            pairs[(from_id or None, to_id)] = n
    medians = {}
    for pk in open_ids:
        untimed = found.get(f"untimed_{pk}", 0)
        timed = sum(n for (from_id, _to), n in pairs.items() if from_id == pk) - untimed
        if timed <= 0:
            continue
        # The middle one or two of the stage's timed moves, by time spent (index order;
        # the untimed left out, as the engines sort NULL first or last).
        ordered = moves.filter(from_stage=pk, seconds_in_from__isnull=False)
        ordered = ordered.order_by("seconds_in_from")
        start = (timed - 1) // 2
        middle = list(ordered.values_list("seconds_in_from", flat=True)[start : start + 2])
        medians[pk] = middle[0] if timed % 2 else sum(middle) / 2
    return pairs, medians


STAND_IN = -7_919_317  # stands for a stage's id while a count's query is compiled


def _counts(moves: QuerySet, wanted: dict[str, dict]) -> dict[str, int]:
    """For each name, the number of `moves` meeting its filters (stages' ids, or None),
    all in one query of counting subqueries, each read from an index. A subquery is
    compiled once per shape of filters, its stages' ids given in the places their stand-ins
    took: compiling some ninety of them through the ORM took half of the funnel's time."""
    shapes: dict[tuple, tuple[str, list, dict[int, str]]] = {}
    selected, values = [], []
    for filters in wanted.values():
        shape = tuple((key, value is None) for key, value in filters.items())
        if shape not in shapes:
            stand_ins = {key: None if none else STAND_IN - n for n, (key, none) in enumerate(shape)}
            rows = moves.filter(**stand_ins).order_by().values("pipeline").annotate(n=Count("*"))
            sql, params = rows.values("n").query.get_compiler(moves.db).as_sql()
            keys = {value: key for key, value in stand_ins.items() if value is not None}
            places = {n: keys[p] for n, p in enumerate(params) if type(p) is int and p in keys}
            assert sorted(places.values()) == sorted(keys.values()), "a stand-in lost: " + sql
            shapes[shape] = (sql, list(params), places)
        sql, params, places = shapes[shape]
        selected.append(f"COALESCE(({sql}), 0)")
        values += [filters[places[n]] if n in places else p for n, p in enumerate(params)]
    with connections[moves.db].cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(selected)}", values)
        return dict(zip(wanted, cursor.fetchone(), strict=True))


def _visible_funnel(moves: QuerySet) -> tuple[dict, dict]:
    """Pair counts and medians (to the hour) from the visible moves, grouped."""
    pairs: dict[tuple, int] = {}
    hours: dict[int, list[tuple[int, int]]] = {}
    for from_id, to_id, hour, n in (
        moves.order_by()
        .annotate(hour=F("seconds_in_from") / HOUR)
        .values_list("from_stage", "to_stage", "hour")
        .annotate(n=Count("id"))
    ):
        pairs[(from_id, to_id)] = pairs.get((from_id, to_id), 0) + n
        if from_id is not None and hour is not None:
            hours.setdefault(from_id, []).append((hour, n))
    medians = {pk: median_hour(histogram) for pk, histogram in hours.items()}
    return pairs, {pk: middle * HOUR for pk, middle in medians.items() if middle is not None}


def median_hour(histogram: list[tuple[int, int]]) -> float | None:
    """The median of values counted per whole hour (each value the middle of its hour);
    of an even number, halfway between the middle two."""
    total = sum(n for _hour, n in histogram)
    if not total:
        return None
    middle, seen = [], 0
    for hour, n in sorted(histogram):
        middle += [hour + 0.5] * sum(seen <= i < seen + n for i in {(total - 1) // 2, total // 2})
        seen += n
    return sum(middle) / len(middle)


def win_rate(rows: list[FunnelRow]) -> float | None:
    won = sum(r.entered for r in rows if r.stage.kind == Stage.WON)
    lost = sum(r.entered for r in rows if r.stage.kind == Stage.LOST)
    return round(won / (won + lost), 3) if won + lost else None


DEAL_SORTS = {"title", "created_at", "updated_at", "amount"}


def filter_deals(deals: QuerySet, filters: dict[str, str], *, user) -> QuerySet:
    """The board's and the list's filters: owner (me / id), team, status, stage, tag,
    segment of clients, expected close from / until, title words."""

    errors: dict[str, list[str]] = {}
    for name, value in filters.items():
        value = value.strip()
        if not value:
            continue
        if name == "owner":
            deals = (
                deals.filter(owner=user)
                if value == "me"
                else _by_id(deals, "owner_id", value, name, errors)
            )
        elif name == "team":
            deals = _by_id(deals, "owner__team_id", value, name, errors)
        elif name == "stage":
            deals = _by_id(deals, "stage_id", value, name, errors)
        elif name == "person":
            deals = _by_id(deals, "person_id", value, name, errors)
        elif name == "company":  # the company's deals and its people's
            if value.isdecimal() and len(value) <= 18:
                deals = deals.filter(Q(company_id=value) | Q(person__company_id=value))
            else:
                errors[name] = [_("Enter a whole number.")]
        elif name == "status" and value in ("open", "won", "lost"):
            deals = deals.filter(status=value)
        elif name == "tag":
            deals = deals.filter(tags__name__iexact=value)
        elif name == "segment":
            deals = _in_segment(deals, value, user, errors)
        elif name == "q":
            for word in value.split()[:5]:
                deals = deals.filter(title__icontains=word)
        elif name in ("close_from", "close_until"):
            try:
                day = datetime.date.fromisoformat(value)
            except ValueError:
                errors[name] = [_("Enter a date as YYYY-MM-DD.")]
                continue
            lookup = "gte" if name == "close_from" else "lte"
            deals = deals.filter(**{f"expected_close_date__{lookup}": day})
        else:
            errors[name] = [_("There is no filter %(name)s.") % {"name": name}]
    if errors:
        raise ValidationError(errors)
    return deals


def check_deal_filters(user, filters: dict) -> None:
    """Raise ValidationError when the deal list would refuse these filters (segments)."""
    filter_deals(deals_visible_to(user), filters, user=user)


def _in_segment(deals, value, user, errors):
    """Deals whose client (person or company, as the segment's kind) is in the segment."""

    segment = (
        segments_visible_to(user)
        .filter(pk=int(value), record_type__in=["person", "company"])
        .first()
        if value.isdecimal() and len(value) <= 18
        else None
    )
    if segment is None:
        errors["segment"] = [_("There is no such segment.")]
        return deals
    return deals.filter(in_segment(segment, user))


def in_segment(segment, user) -> Q:
    """The deals whose client (a person, or a company, as the segment's kind) is in
    `segment` as `user` sees it; a filter that no longer holds (a field retired since) is
    refused with ValidationError."""
    if segment.record_type == "person":
        members = filter_clients(people_visible_to(user), "person", segment.filters, user=user)
        return Q(person__in=members.values("pk"))
    members = filter_clients(companies_visible_to(user), "company", segment.filters, user=user)
    return Q(company__in=members.values("pk"))


def _by_id(deals, field, value, name, errors):
    if not value.isdecimal() or len(value) > 18:
        errors[name] = [_("Enter a whole number.")]
        return deals
    return deals.filter(**{field: int(value)})
