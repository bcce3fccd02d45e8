"""A new company starts with a ready pipeline and lost reasons (admins adjust them later)."""

from django.utils.translation import gettext_noop

DEFAULT_STAGES = [
    (gettext_noop("New request"), "open", 10, 2),
    (gettext_noop("First conversation"), "open", 25, 5),
    (gettext_noop("Offer sent"), "open", 50, 7),
    (gettext_noop("Negotiation"), "open", 75, 10),
    (gettext_noop("Won"), "won", 100, None),
    (gettext_noop("Lost"), "lost", 0, None),
]
DEFAULT_REASONS = [
    gettext_noop("Too expensive"),
    gettext_noop("Chose a competitor"),
    gettext_noop("No budget"),
    gettext_noop("Could not reach them"),
]
COLOURS = ["#3b5bdb", "#1098ad", "#f08c00", "#ae3ec9", "#2b8a3e", "#c92a2a"]


def ensure_default_pipeline(using: str = "default", **kwargs) -> None:
    """After migrate: a company with no pipeline gets "Sales" and the usual lost reasons."""
    from accord.sales.models import (  # apps.py imports this module before the models are ready
        LostReason,
        Pipeline,
        Stage,
    )

    if Pipeline.objects.using(using).exists():
        return
    pipeline = Pipeline.objects.using(using).create(name=gettext_noop("Sales"), position=0)
    for position, (name, kind, probability, rotting) in enumerate(DEFAULT_STAGES):
        Stage.objects.using(using).create(
            pipeline=pipeline,
            name=name,
            kind=kind,
            probability=probability,
            rotting_days=rotting,
            position=position,
            color=COLOURS[position],
        )
    if not LostReason.objects.using(using).exists():
        for position, name in enumerate(DEFAULT_REASONS):
            LostReason.objects.using(using).create(name=name, position=position)
