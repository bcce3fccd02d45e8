"""The demo company's sales: two pipelines, a catalogue, lost reasons, the deal's window
fields and deals everywhere."""

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accord.accounts.models import User
from accord.contacts.models import Person, Tag
from accord.core.models import CustomField, TimelineEvent
from accord.core.services import custom_field_save
from accord.core.timeline import timeline_of
from accord.sales.models import Deal, LostReason, Pipeline, StageMove
from accord.sales.services.deals import deal_create, deal_lose, deal_move, deal_win
from accord.sales.services.lines import line_item_save
from accord.sales.services.pipelines import lost_reason_save, pipeline_create, pipeline_retire
from accord.sales.services.products import price_list_prices, price_list_save, product_save

PIPELINES = {
    "Windows": [
        ("Request", 10, 1),
        ("Measurement", 30, 3),
        ("Offer", 50, 5),
        ("Contract", 80, 7),
        ("Installation", 95, 14),
    ],
    "Wholesale": [("New", 10, 5), ("Negotiation", 40, 10), ("Agreed", 80, None)],
}
PRODUCTS = [
    ("PVC window 1200×1400", "WIN-1214", "product", "pcs", "320.00"),
    ("Balcony door", "DOOR-B", "product", "pcs", "540.00"),
    ("Window sill", "SILL-1", "product", "m", "45.00"),
    ("Measurement visit", "SRV-MEAS", "service", "visit", "30.00"),
    ("Installation", "SRV-INST", "service", "hour", "55.00"),
]
DEAL_FIELDS = [  # what the measurer and the installer fill in (as the window shop's)
    ("Number of windows", "number"),
    ("Window sizes", "text"),
    ("Installation date", "date"),
]
REASONS = ["Too expensive", "Chose a competitor", "No budget this year", "Could not reach them"]
TITLES = [
    "Windows for the flat",
    "Balcony glazing",
    "Office windows",
    "Country house",
    "Kitchen window",
    "Door replacement",
    "New build, 12 windows",
    "Shop front",
]


def populate() -> None:
    if Pipeline.objects.filter(name__in=PIPELINES).exists():
        return
    rng = random.Random(7)
    admin = User.objects.get(email="admin@example.com")
    for name, stages in PIPELINES.items():
        pipeline_create(
            actor=admin,
            name=name,
            stages=[
                *({"name": n, "probability": p, "rotting_days": r} for n, p, r in stages),
                {"name": "Won", "kind": "won", "probability": 100},
                {"name": "Lost", "kind": "lost", "probability": 0},
            ],
        )
    for label, kind in DEAL_FIELDS:
        custom_field_save(actor=admin, record_type="deal", label=label, type=kind)
    products = [
        product_save(
            actor=admin,
            data={"name": n, "sku": s, "kind": k, "unit": u, "price": p, "currency": "EUR"},
        )
        for n, s, k, u, p in PRODUCTS
    ]
    _pricing(admin, products)
    reasons = list(LostReason.objects.all()) or [
        lost_reason_save(actor=admin, name=name) for name in REASONS
    ]
    for pipeline in Pipeline.objects.exclude(name__in=PIPELINES):  # the empty starter one
        pipeline_retire(actor=admin, pipeline=pipeline)
    stages = {
        pipeline: list(pipeline.stages.filter(kind="open").order_by("position"))
        for pipeline in Pipeline.objects.filter(name__in=PIPELINES)
    }
    windows, wholesale = (Pipeline.objects.get(name=name) for name in PIPELINES)
    owners = list(User.objects.filter(role__slug__in=["manager", "head-of-sales"]))
    now = timezone.now()
    for person in Person.objects.select_related("company").order_by("pk"):
        # Deals over the past year: the older ones are closed, the recent ones still open.
        for _deal in range(rng.choice([1, 2, 2, 3])):
            age = rng.uniform(1, 60) if rng.random() < 0.45 else rng.uniform(60, 365)
            pipeline = wholesale if person.company and rng.random() < 0.3 else windows
            deal = _demo_deal(rng, person, rng.choice(owners), pipeline, products)
            steps = rng.randrange(0, len(stages[pipeline]))
            for stage in stages[pipeline][1 : 1 + steps]:
                deal = deal_move(actor=deal.owner, deal=deal, stage=stage)
            if age > 60 or rng.random() < 0.1:
                if rng.random() < 0.35 + 0.1 * steps:
                    deal = deal_win(actor=deal.owner, deal=deal)
                else:
                    deal = deal_lose(
                        actor=deal.owner, deal=deal, reason=rng.choice(reasons), note=""
                    )
            _backdate(deal, now - timedelta(days=age), now, rng)
    # Two years of closed deals before that, so the win probability has a history to
    # learn from: the further a deal got, the likelier it was won.
    history = random.Random(11)
    for person in [*Person.objects.select_related("company").order_by("pk")] * 2:
        pipeline = windows
        deal = _demo_deal(history, person, history.choice(owners), pipeline, products)
        steps = history.randrange(0, len(stages[pipeline]))
        for stage in stages[pipeline][1 : 1 + steps]:
            deal = deal_move(actor=deal.owner, deal=deal, stage=stage)
        if history.random() < 0.15 + 0.17 * steps:
            deal = deal_win(actor=deal.owner, deal=deal)
        else:
            deal = deal_lose(actor=deal.owner, deal=deal, reason=history.choice(reasons), note="")
        _backdate(deal, now - timedelta(days=history.uniform(380, 700)), now, history)


def _demo_deal(rng, person, owner, pipeline, products):
    deal = deal_create(
        actor=owner,
        data={
            "title": rng.choice(TITLES),
            "person": person,
            "company": person.company,
            "pipeline": pipeline,
            "source": person.source,
            # When the open ones should close: the forecast's months.
            "expected_close_date": timezone.localdate() + timedelta(days=rng.randrange(3, 150)),
        },
    )
    for product in rng.sample(products, rng.randrange(1, 3)):
        line_item_save(
            actor=owner, deal=deal, data={"product": product, "quantity": rng.randrange(1, 6)}
        )
    return deal


def _entered_current(deal, now, rng):
    """When an open demo deal entered its stage: within the stage's limit for most, past
    it for about one in six (the board warns about a few stuck deals, not all)."""
    limit = deal.stage.rotting_days or 14
    days = rng.uniform(limit * 1.2, limit * 3) if rng.random() < 0.17 else rng.uniform(0, limit)
    return now - timedelta(days=days, hours=rng.uniform(0, 3))


def _backdate(deal, started, now, rng) -> None:
    """Spread a demo deal's history from `started`: its stage moves a few days apart, its
    timeline along with them, so the board's "days in stage" and the funnel look lived-in."""
    moves = list(StageMove.objects.filter(deal=deal).order_by("id"))
    closed = deal.status != Deal.OPEN
    if not closed and len(moves) <= 1:  # still in its first stage: a recent request
        started = _entered_current(deal, now, rng)
    times, when = [], started
    for index, move in enumerate(moves):
        if index:
            when = min(when + timedelta(days=rng.uniform(1, 14), hours=rng.uniform(0, 6)), now)
            if index == len(moves) - 1 and not closed:
                when = max(_entered_current(deal, now, rng), times[-1])
            move.seconds_in_from = int((when - times[-1]).total_seconds())
        move.moved_at = when
        times.append(when)
    StageMove.objects.bulk_update(moves, ["moved_at", "seconds_in_from"])
    times = times or [started]
    Deal.objects.filter(pk=deal.pk).update(
        created_at=started,
        updated_at=when,
        stage_entered_at=when,
        closed_at=when if closed else None,
    )
    position = 0
    events = list(timeline_of(deal).order_by("id"))
    for event in events:
        if event.kind == "stage_changed":
            position = min(position + 1, len(times) - 1)
        event.occurred_at = times[position]
    TimelineEvent.objects.bulk_update(events, ["occurred_at"])


def _pricing(admin, products) -> None:
    """Installation priced by the deal's number of windows; a wholesale price list for
    the clients tagged "wholesale" (a tenth off the windows and doors)."""
    windows = CustomField.objects.filter(record_type="deal", label="Number of windows").first()
    if windows is not None:
        product_save(actor=admin, data={
            "name": "Installation, per window", "sku": "SRV-INST-W", "kind": "service",
            "unit": "job", "price": "0", "currency": "EUR",
            "price_formula": f"{windows.key} * 60",
        })  # fmt: skip
    tag = Tag.objects.filter(name="wholesale").first() or Tag.objects.create(name="wholesale")
    wholesale = price_list_save(actor=admin, data={"name": "Wholesale", "currency": "EUR",
                                                   "tag": tag})  # fmt: skip
    price_list_prices(actor=admin, price_list=wholesale, prices={
        product.pk: (product.price * Decimal("0.9")).quantize(Decimal("1"))
        for product in products if product.kind == "product"
    })  # fmt: skip
