"""The demo company's sales: two pipelines, a catalogue, lost reasons and deals everywhere."""

import random

from accord.accounts.models import User
from accord.contacts.models import Person
from accord.sales.models import LostReason, Pipeline
from accord.sales.services import (
    deal_create,
    deal_lose,
    deal_move,
    deal_win,
    line_item_save,
    lost_reason_save,
    pipeline_create,
    pipeline_retire,
    product_save,
)

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
    products = [
        product_save(
            actor=admin,
            data={"name": n, "sku": s, "kind": k, "unit": u, "price": p, "currency": "EUR"},
        )
        for n, s, k, u, p in PRODUCTS
    ]
    reasons = list(LostReason.objects.all()) or [
        lost_reason_save(actor=admin, name=name) for name in REASONS
    ]
    for pipeline in Pipeline.objects.exclude(name__in=PIPELINES):  # the empty starter one
        pipeline_retire(actor=admin, pipeline=pipeline)
    windows = Pipeline.objects.get(name="Windows")
    open_stages = list(windows.stages.filter(kind="open").order_by("position"))
    owners = list(User.objects.filter(role__slug__in=["manager", "head-of-sales"]))
    for index, person in enumerate(Person.objects.order_by("pk")[:24]):
        owner = rng.choice(owners)
        deal = deal_create(
            actor=owner,
            data={
                "title": rng.choice(TITLES),
                "person": person,
                "company": person.company,
                "pipeline": windows,
                "source": person.source,
            },
        )
        for product in rng.sample(products, rng.randrange(1, 3)):
            line_item_save(
                actor=owner, deal=deal, data={"product": product, "quantity": rng.randrange(1, 6)}
            )
        for stage in open_stages[1 : 1 + index % len(open_stages)]:
            deal = deal_move(actor=owner, deal=deal, stage=stage)
        if index % 6 == 4:
            deal_win(actor=owner, deal=deal)
        elif index % 6 == 5:
            deal_lose(actor=owner, deal=deal, reason=rng.choice(reasons), note="")
