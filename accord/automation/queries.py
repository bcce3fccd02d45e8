"""Reads of automation: the rules with their last run, a rule's runs with their steps,
and the runs on one record."""

from datetime import timedelta

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from accord.automation.models import Rule, Run
from accord.automation.records import model_of


def rules():
    """Every rule, with when it last ran and how its last run went, and its failed runs
    of the last week."""

    last = Run.objects.filter(rule=OuterRef("pk"), dry_run=False).order_by("-created_at", "-id")
    week = timezone.now() - timedelta(days=7)
    # Each a range of the (rule, created_at) index: no join over every run a rule had.
    failed = (
        Run.objects.filter(rule=OuterRef("pk"), status=Run.FAILED, created_at__gte=week)
        .values("rule")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Rule.objects.annotate(
        last_run_at=Subquery(last.values("created_at")[:1]),
        last_status=Subquery(last.values("status")[:1]),
        failed_week=Coalesce(Subquery(failed[:1]), 0),
    ).select_related("created_by")


def runs_of(rule: Rule, limit: int = 50) -> list[Run]:
    """The rule's latest runs with their steps, each with its record's name and address."""
    runs = list(rule.runs.prefetch_related("steps").order_by("-created_at", "-id")[:limit])
    label_records(runs)
    return runs


def label_records(runs: list[Run]) -> None:
    """Give each run `record_name` and `record_url` (blank when the record is gone)."""

    wanted: dict[str, set[int]] = {}
    for run in runs:
        if run.subject_id:
            wanted.setdefault(run.subject_type, set()).add(run.subject_id)
    names = {
        (subject, pk): str(record)
        for subject, ids in wanted.items()
        for pk, record in model_of(subject).objects.in_bulk(ids).items()
    }
    routes = {
        "person": ("client_detail", "people"),
        "company": ("client_detail", "companies"),
        "deal": ("deal_detail", None),
        "task": ("task_detail", None),
    }
    for run in runs:
        run.record_name = names.get((run.subject_type, run.subject_id), "")
        route, plural = routes.get(run.subject_type, (None, None))
        run.record_url = ""
        if run.record_name and route:
            args = [plural, run.subject_id] if plural else [run.subject_id]
            run.record_url = reverse(route, args=args)
