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
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accord.marketing.models import Channel, Touch
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
    if won < MIN_EACH or lost < MIN_EACH:
        model.problem = "history"
        model.seconds = time.monotonic() - began
        model.save()
        WinModel.objects.exclude(pk=model.pk).delete()
        deal_scores_clear()
        return model
    common = (
        Touch.objects.filter(channel__isnull=False).values("channel").annotate(n=Count("id"))
        .order_by("-n").values_list("channel", flat=True)[:CHANNELS]
    )  # fmt: skip
    channels = list(common)
    names, x = features(rows, now, channels)
    means, scales = x.mean(axis=0), x.std(axis=0)
    scales[scales == 0] = 1.0
    standard = (x - means) / scales
    # How well it tells them apart on a fifth it was not fitted on (every fifth deal).
    held = np.arange(len(rows)) % 5 == 0
    weights, bias = fit(standard[~held], labels[~held])
    model.auc = auc(standard[held] @ weights + bias, labels[held])
    weights, bias = fit(standard, labels)
    model.weights = {"names": names, "weights": weights.tolist(), "bias": bias,
                     "means": means.tolist(), "scales": scales.tolist()}  # fmt: skip
    scored = score_open(model, now, channels)
    model.seconds = time.monotonic() - began
    model.save()
    WinModel.objects.exclude(pk=model.pk).delete()
    log.info("win probability learned from %s won and %s lost deals in %.1f s (AUC %s); "
             "%s open deals scored", won, lost, model.seconds, model.auc, scored)  # fmt: skip
    return model


def score_open(model: WinModel, now: datetime, channels: list[int] | None = None) -> int:
    """Each open deal's probability and its three weightiest factors."""
    learned = model.weights
    names = learned["names"]
    if channels is None:
        channels = [int(n.split(":")[1]) for n in names if n.startswith("channel:")]
    weights, bias = np.array(learned["weights"]), learned["bias"]
    means, scales = np.array(learned["means"]), np.array(learned["scales"])
    channel_names = dict(Channel.objects.filter(pk__in=channels).values_list("pk", "name"))
    scores: dict[int, tuple[float, list]] = {}
    open_deals = Deal.objects.filter(status=Deal.OPEN).order_by("pk")
    last = 0
    while True:
        rows = _deal_rows(open_deals.filter(pk__gt=last)[:CHUNK])
        if not rows:
            break
        last = rows[-1][0]
        _names, x = features(rows, now, channels)
        effects = ((x - means) / scales) * weights
        odds = effects.sum(axis=1) + bias
        chances = 1.0 / (1.0 + np.exp(-np.clip(odds, -30, 30)))
        for index, row in enumerate(rows):
            top = np.argsort(-np.abs(effects[index]))[:3]
            factors = []
            for column in top:
                name = names[column]
                raw, usual = float(x[index, column]), float(means[column])
                factors.append({
                    "key": name.split(":")[0], "effect": round(float(effects[index, column]), 3),
                    "value": _shown(name, raw), "usual": _shown(name, usual),
                    "name": channel_names.get(int(name.split(":")[1]), "")
                    if name.startswith("channel:") else "",
                })  # fmt: skip
            scores[row[0]] = (round(float(chances[index]), 4), factors)
    deal_scores_set(scores=scores, at=now)
    return len(scores)


def _shown(name: str, value: float) -> float:
    """A feature as people count it: days, money and counts back from their logarithm."""
    if name in ("progress",) or name.startswith("channel:"):
        return round(value * 100)
    return round(math.expm1(value), 1)


def latest() -> WinModel | None:
    return WinModel.objects.order_by("-trained_at").first()


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
