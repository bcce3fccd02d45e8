"""A win probability learned from the company's own history: a logistic regression over
the deals closed in the last two years (won or lost), fitted by Newton's method with a
little L2 regularisation (numpy), checked on a fifth of them it was not fitted on, then
fitted on all and used to score every open deal, with the three factors that weigh most
for each. The worker retrains it nightly. Below 30 won and 30 lost deals it says so
instead of guessing.

A deal's features, as they stood when it closed (or now, for an open deal): how far
through its pipeline it got, its age and the days in its stage, its amount, the calls,
meetings, e-mails, visits and notes logged on it before it closed, the client's earlier
purchases, and the channel its lead came through."""

import logging
import math
import time
from bisect import bisect_left
from collections import defaultdict
from datetime import datetime, timedelta

import numpy as np
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accord.contacts.models import ContactPoint, Person
from accord.contacts.services.scores import lead_scores_clear, lead_scores_set
from accord.marketing.models import Channel, Submission, Touch
from accord.reports.models import WinModel
from accord.sales.models import Deal, Stage, StageMove
from accord.sales.services.scores import deal_scores_clear, deal_scores_set
from accord.work.models import CALL, EMAIL, MEETING, NOTE, VISIT, Activity

log = logging.getLogger(__name__)
MIN_EACH = 30  # won and lost deals needed before anything is learned
HISTORY = timedelta(days=730)
MAX_DEALS = 500_000
CHANNELS = 8  # the most common channels get a feature each
LOGGED = (CALL, MEETING, EMAIL, VISIT, NOTE)
BASE = ["progress", "age", "in_stage", "amount", *LOGGED, "purchases"]
CHUNK = 20_000


def _progress_of_stages() -> dict[int, float]:
    """Each open stage's place in its pipeline, 0 (the first) to 1 (the last open one)."""
    found: dict[int, float] = {}
    by_pipeline: dict[int, list] = defaultdict(list)
    for pk, pipeline, position in Stage.objects.filter(kind=Stage.OPEN).values_list(
        "pk", "pipeline_id", "position"
    ):
        by_pipeline[pipeline].append((position, pk))
    for stages in by_pipeline.values():
        stages.sort()
        last = max(len(stages) - 1, 1)
        for index, (_position, pk) in enumerate(stages):
            found[pk] = index / last
    return found


def _came_through(deal_ids: list[int]) -> dict[int, int]:
    """The channel each deal's lead came through: its own request, else the client's
    first visit."""
    own = Touch.objects.filter(deal=OuterRef("pk")).order_by("at", "id")
    lead = Touch.objects.filter(person=OuterRef("person"), deal=None, kind=Touch.FIRST)
    came = Coalesce(Subquery(own.values("channel")[:1]),
                    Subquery(lead.order_by("at", "id").values("channel")[:1]))  # fmt: skip
    found: dict[int, int] = {}
    for start in range(0, len(deal_ids), CHUNK):
        rows = Deal.objects.filter(pk__in=deal_ids[start : start + CHUNK]).annotate(came=came)
        found.update({pk: c for pk, c in rows.values_list("pk", "came") if c})
    return found


def _furthest(deal_ids: list[int], progress: dict[int, float]) -> dict[int, float]:
    """How far through its pipeline each deal got (the furthest open stage it entered)."""
    found: dict[int, float] = {}
    for start in range(0, len(deal_ids), CHUNK):
        moves = StageMove.objects.filter(deal_id__in=deal_ids[start : start + CHUNK])
        for deal_id, stage_id in moves.values_list("deal_id", "to_stage_id"):
            if stage_id in progress:
                found[deal_id] = max(found.get(deal_id, 0.0), progress[stage_id])
    return found


def _logged(deal_ids: list[int]) -> dict[int, dict[str, int]]:
    """Activities logged on each deal before it closed."""
    found: dict[int, dict[str, int]] = defaultdict(dict)
    before_close = Q(deal__closed_at__isnull=True) | Q(occurred_at__lt=F("deal__closed_at"))
    for start in range(0, len(deal_ids), CHUNK):
        rows = (
            Activity.objects.filter(before_close, deal_id__in=deal_ids[start : start + CHUNK])
            .values("deal_id", "kind")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            found[row["deal_id"]][row["kind"]] = row["n"]
    return found


def _purchases() -> dict[tuple[str, int], list]:
    """Each client's won deals' closing moments, in order."""
    found: dict[tuple[str, int], list] = defaultdict(list)
    won = Deal.objects.filter(status=Deal.WON, closed_at__isnull=False)
    for person, company, closed in won.values_list("person_id", "company_id", "closed_at"):
        found[("p", person) if person else ("c", company)].append(closed)
    for moments in found.values():
        moments.sort()
    return found


def features(
    deals: list[tuple], now: datetime, channels: list[int]
) -> tuple[list[str], np.ndarray]:
    """The feature matrix of `deals` (rows of id, created, closed, amount, stage entered,
    stage, person, company), in the order given."""
    ids = [row[0] for row in deals]
    progress = _progress_of_stages()
    furthest = _furthest(ids, progress)
    logged = _logged(ids)
    came = _came_through(ids)
    purchases = _purchases()
    names = BASE + [f"channel:{pk}" for pk in channels]
    matrix = np.zeros((len(deals), len(names)))
    for row, (pk, created, closed, amount, entered, stage, person, company) in enumerate(deals):
        end = closed or now
        key = ("p", person) if person else ("c", company)
        earlier = bisect_left(purchases.get(key, []), created) if (person or company) else 0
        values = [
            furthest.get(pk, progress.get(stage, 0.0)),
            math.log1p(max((end - created).total_seconds(), 0) / 86400),
            math.log1p(max((end - entered).total_seconds(), 0) / 86400) if not closed else 0.0,
            math.log1p(max(float(amount), 0)),
            *(math.log1p(logged.get(pk, {}).get(kind, 0)) for kind in LOGGED),
            math.log1p(earlier),
        ]
        matrix[row, : len(values)] = values
        if came.get(pk) in channels:
            matrix[row, len(BASE) + channels.index(came[pk])] = 1.0
    return names, matrix


def fit(x: np.ndarray, y: np.ndarray, penalty: float = 1.0) -> tuple[np.ndarray, float]:
    """Logistic regression by Newton's method (iteratively reweighted least squares) on
    standardised features; L2 on the weights, none on the bias."""
    rows, columns = x.shape
    design = np.hstack([x, np.ones((rows, 1))])
    weights = np.zeros(columns + 1)
    ridge = np.eye(columns + 1) * penalty
    ridge[-1, -1] = 0.0
    for _round in range(30):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ weights, -30, 30)))
        gradient = design.T @ (p - y) + ridge @ weights
        hessian = (design * (p * (1 - p))[:, None]).T @ design + ridge + np.eye(columns + 1) * 1e-9
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-7:
            break
    return weights[:-1], float(weights[-1])


def auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """The chance a won deal scores above a lost one (ties half), by ranks."""
    won, lost = labels.sum(), len(labels) - labels.sum()
    if not won or not lost:
        return None
    order = scores.argsort(kind="mergesort")
    _values, first, counts = np.unique(scores[order], return_index=True, return_counts=True)
    ranks = np.empty(len(scores))
    ranks[order] = np.repeat(first + (counts + 1) / 2, counts)  # ties share their mean rank
    return float((ranks[labels == 1].sum() - won * (won + 1) / 2) / (won * lost))


def _deal_rows(queryset, *more: str) -> list[tuple]:
    return list(queryset.values_list("pk", "created_at", "closed_at", "amount", "stage_entered_at",
                                     "stage_id", "person_id", "company_id", *more))  # fmt: skip


def train(now: datetime | None = None) -> WinModel:
    """Learn from the deals closed in the last two years; score the open deals."""
    now = now or timezone.now()
    began = time.monotonic()
    closed = Deal.objects.filter(status__in=(Deal.WON, Deal.LOST), closed_at__gte=now - HISTORY)
    found = _deal_rows(closed.order_by("-closed_at")[:MAX_DEALS], "status")
    rows = [row[:-1] for row in found]
    labels = np.array([1.0 if row[-1] == Deal.WON else 0.0 for row in found])
    won, lost = int(labels.sum()), int(len(labels) - labels.sum())
    model = WinModel(trained_at=now, won=won, lost=lost)
    scored = 0
    if won < MIN_EACH or lost < MIN_EACH:
        model.problem = "history"
        deal_scores_clear()
    else:
        channels = _common_channels()
        names, x = features(rows, now, channels)
        model.weights, model.auc = _fitted(names, x, labels)
        scored = score_open(model, now, channels)
    model.seconds = time.monotonic() - began
    model.save()
    WinModel.objects.filter(kind=model.kind).exclude(pk=model.pk).delete()
    log.info("win probability learned from %s won and %s lost deals in %.1f s (AUC %s); "
             "%s open deals scored", won, lost, model.seconds, model.auc, scored)  # fmt: skip
    return model


def score_open(model: WinModel, now: datetime, channels: list[int]) -> int:
    """Each open deal's probability and its three weightiest factors."""
    scores: dict[int, tuple[float, list]] = {}
    open_deals = Deal.objects.filter(status=Deal.OPEN).order_by("pk")
    last = 0
    while rows := _deal_rows(open_deals.filter(pk__gt=last)[:CHUNK]):
        last = rows[-1][0]
        _names, x = features(rows, now, channels)
        scores.update(_scored(model.weights, [row[0] for row in rows], x))
    deal_scores_set(scores=scores, at=now)
    return len(scores)


def _shown(name: str, value: float) -> float:
    """A feature as people count it: days, money and counts back from their logarithm."""
    if name in ("email", "phone", "company", "form") or name.startswith("channel:"):
        return round(value, 2)
    if name == "progress":
        return round(value * 100)
    counted = round(math.expm1(value), 1)
    return int(counted) if counted.is_integer() else counted  # 2 calls, not 2.0


def latest(kind: str = WinModel.DEAL) -> WinModel | None:
    return WinModel.objects.filter(kind=kind).order_by("-trained_at").first()


def tick(now: datetime) -> None:
    """Nightly: from 2 o'clock on the company's clock, once a day (claimed, so one worker
    trains while the others go on)."""
    local = timezone.localtime(now)
    if local.hour < 2:
        return
    found = latest()
    start_of_night = local.replace(hour=2, minute=0, second=0, microsecond=0)
    if found is not None and found.trained_at >= start_of_night:
        return
    if found is not None:
        claimed = WinModel.objects.filter(pk=found.pk, trained_at=found.trained_at).update(
            trained_at=now
        )
        if not claimed:
            return
    train(now)
    train_leads(now)


def described(model: WinModel | None) -> str:
    """What the learned probability rests on, in a sentence."""
    if model is None:
        return _("The win probability is learned from your closed deals each night; it has "
                 "not been learned yet.")  # fmt: skip
    if not model.weights:
        return _("The win probability needs at least %(need)s won and %(need)s lost deals "
                 "closed in the last two years; there are %(won)s won and %(lost)s lost.") % {
            "need": MIN_EACH, "won": model.won, "lost": model.lost}  # fmt: skip
    text = _("The learned chance comes from %(won)s won and %(lost)s lost deals "
             "(learned %(day)s).") % {"won": model.won, "lost": model.lost,
                                      "day": date_format(timezone.localtime(model.trained_at),
                                                         "SHORT_DATE_FORMAT")}  # fmt: skip
    if model.auc is not None:
        share = round(model.auc * 100)
        text += " " + _("On deals it did not learn from, it ranked a won deal above a lost one "
                        "%(share)s %% of the time.") % {"share": share}  # fmt: skip
    return text


# --- Leads: the chance to become a client ------------------------------------------------

# Not their age: a lead is learned from only after a month (or once they bought), so age
# would tell the learned-from apart, not those who buy.
LEAD_BASE = ["email", "phone", "company", "form", "call", "meeting", "email_logged", "deals"]
SETTLE = timedelta(days=30)  # a lead this new has not had its chance yet: not learned from


def _converted() -> dict[int, datetime]:
    """Each person's first won deal: when they became a client."""
    found: dict[int, datetime] = {}
    won = Deal.objects.filter(status=Deal.WON, person__isnull=False, closed_at__isnull=False)
    for person, closed in won.values_list("person_id", "closed_at").order_by("closed_at"):
        found.setdefault(person, closed)
    return found


def lead_features(
    people: list[tuple], now: datetime, channels: list[int], converted: dict[int, datetime]
) -> tuple[list[str], np.ndarray]:
    """The features of `people` (rows of id, created, company), each as it stood when
    they became a client (or now)."""
    ids = [row[0] for row in people]
    names = LEAD_BASE + [f"channel:{pk}" for pk in channels]
    points: dict[int, set] = defaultdict(set)
    logged: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    deals: dict[int, int] = defaultdict(int)
    sent, came = set(), {}
    kinds = {CALL: "call", MEETING: "meeting", EMAIL: "email_logged"}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for person, kind in ContactPoint.objects.filter(person_id__in=chunk).values_list(
            "person_id", "kind"
        ):
            points[person].add(kind)
        sent.update(
            Submission.objects.filter(person_id__in=chunk).values_list("person_id", flat=True)
        )
        for person, kind, at in Activity.objects.filter(
            person_id__in=chunk, kind__in=list(kinds)
        ).values_list("person_id", "kind", "occurred_at"):
            if person not in converted or at < converted[person]:
                logged[person][kinds[kind]] += 1
        for person, created in Deal.objects.filter(person_id__in=chunk).values_list(
            "person_id", "created_at"
        ):
            if person not in converted or created <= converted[person]:
                deals[person] += 1
        first = Touch.objects.filter(person_id__in=chunk, deal=None, kind=Touch.FIRST)
        for person, channel in first.order_by("-at").values_list("person_id", "channel_id"):
            came[person] = channel  # the earliest last
    matrix = np.zeros((len(people), len(names)))
    for row, (pk, _created, company) in enumerate(people):
        values = [
            1.0 if ContactPoint.EMAIL in points[pk] else 0.0,
            1.0 if ContactPoint.PHONE in points[pk] else 0.0,
            1.0 if company else 0.0,
            1.0 if pk in sent else 0.0,
            *(math.log1p(logged[pk][key]) for key in ("call", "meeting", "email_logged")),
            math.log1p(max(deals[pk] - (1 if pk in converted else 0), 0)),
        ]
        matrix[row, : len(values)] = values
        if came.get(pk) in channels:
            matrix[row, len(LEAD_BASE) + channels.index(came[pk])] = 1.0
    return names, matrix


def train_leads(now: datetime | None = None) -> WinModel:
    """Learn from the people of the last two years who became clients, and the leads who
    had a month and did not; score the leads."""
    now = now or timezone.now()
    began = time.monotonic()
    converted = _converted()
    recent = Person.objects.filter(created_at__gte=now - HISTORY)
    candidates = list(
        recent.order_by("-created_at").values_list("pk", "created_at", "company_id")[:MAX_DEALS]
    )
    rows = [r for r in candidates if r[0] in converted or r[1] <= now - SETTLE]
    labels = np.array([1.0 if r[0] in converted else 0.0 for r in rows])
    won, lost = int(labels.sum()), int(len(labels) - labels.sum())
    model = WinModel(kind=WinModel.LEAD, trained_at=now, won=won, lost=lost)
    channels = _common_channels()
    if won < MIN_EACH or lost < MIN_EACH:
        model.problem = "history"
        lead_scores_clear()
    else:
        names, x = lead_features(rows, now, channels, converted)
        model.weights, model.auc = _fitted(names, x, labels)
        won_deal = Deal.objects.filter(person=OuterRef("pk"), status=Deal.WON)
        leads = Person.objects.filter(~Exists(won_deal), kind="lead").order_by("pk")
        scores: dict[int, tuple[float, list]] = {}
        last = 0
        while chunk := list(
            leads.filter(pk__gt=last).values_list("pk", "created_at", "company_id")[:CHUNK]
        ):
            last = chunk[-1][0]
            _names, features_now = lead_features(chunk, now, channels, {})
            scores.update(_scored(model.weights, [r[0] for r in chunk], features_now))
        lead_scores_set(scores=scores, at=now)
    model.seconds = time.monotonic() - began
    model.save()
    WinModel.objects.filter(kind=model.kind).exclude(pk=model.pk).delete()
    return model


def _common_channels() -> list[int]:
    common = (
        Touch.objects.filter(channel__isnull=False).values("channel").annotate(n=Count("id"))
        .order_by("-n").values_list("channel", flat=True)[:CHANNELS]
    )  # fmt: skip
    return list(common)


def _fitted(names: list[str], x: np.ndarray, labels: np.ndarray) -> tuple[dict, float | None]:
    """The model's weights (fitted on all) and its measure on a fifth it was not fitted on."""
    means, scales = x.mean(axis=0), x.std(axis=0)
    scales[scales == 0] = 1.0
    standard = (x - means) / scales
    held = np.arange(len(labels)) % 5 == 0
    weights, bias = fit(standard[~held], labels[~held])
    measured = auc(standard[held] @ weights + bias, labels[held])
    weights, bias = fit(standard, labels)
    return {"names": names, "weights": weights.tolist(), "bias": bias, "means": means.tolist(),
            "scales": scales.tolist()}, measured  # fmt: skip


def _scored(learned: dict, ids: list[int], x: np.ndarray) -> dict[int, tuple[float, list]]:
    """Each row's chance and its three weightiest factors."""
    names = learned["names"]
    weights, bias = np.array(learned["weights"]), learned["bias"]
    means, scales = np.array(learned["means"]), np.array(learned["scales"])
    channels = [int(n.split(":")[1]) for n in names if n.startswith("channel:")]
    channel_names = dict(Channel.objects.filter(pk__in=channels).values_list("pk", "name"))
    effects = ((x - means) / scales) * weights
    chances = 1.0 / (1.0 + np.exp(-np.clip(effects.sum(axis=1) + bias, -30, 30)))
    found = {}
    for index, pk in enumerate(ids):
        factors = []
        for column in np.argsort(-np.abs(effects[index]))[:3]:
            name = names[column]
            factors.append({
                "key": name.split(":")[0], "effect": round(float(effects[index, column]), 3),
                "value": _shown(name, float(x[index, column])),
                "usual": _shown(name, float(means[column])),
                "name": channel_names.get(int(name.split(":")[1]), "")
                if name.startswith("channel:") else "",
            })  # fmt: skip
        found[pk] = (round(float(chances[index]), 4), factors)
    return found
