"""Reads of automation: the rules with their last run, a rule's runs with their steps,
the runs on one record, and the records a rule can be tried on."""

import re
from datetime import timedelta

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from accord.automation.models import Rule, Run
from accord.automation.records import model_of, visible, whole_number
from accord.contacts.queries import search_companies, search_people
from accord.core.phones import display_phone
from accord.sales.queries import search_deals
from accord.work.queries import search_tasks


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


PICKS = 20
SEARCHES = {
    "person": search_people,
    "company": search_companies,
    "deal": search_deals,
    "task": search_tasks,
}


def records_to_test(user, subject: str, query: str) -> list[tuple[int, str]]:
    """(id, name with what tells namesakes apart) of the records of `subject` that `user`
    may see matching what was typed, best first — as global search finds people and
    companies, deals and tasks by their title. A number, "#42" or a record's address
    (…/deals/42/) pasted finds that record first."""
    found = []
    if (number := record_number(query)) is not None:
        found += list(visible(subject, user).filter(pk=number)[:1])
    found += [r for r in SEARCHES[subject](user, query, limit=PICKS) if r.pk != number]
    return [(record.pk, record_label(subject, record)) for record in found[:PICKS]]


def record_number(text: str) -> int | None:
    """The id in "42", "#42" or a record's address (…/deals/42/, …/clients/people/42/)."""
    text = (text or "").strip()
    found = re.fullmatch(r"#?\s*([0-9]+)", text) or re.search(r"/([0-9]+)/?(?:[?#].*)?$", text)
    return whole_number(found.group(1)) if found else None


def record_label(subject: str, record) -> str:
    """A record as a picker lists it: its name, and its client, e-mail or phone."""
    if subject == "deal":
        hint = record.person or record.company or record.stage
    elif subject == "task":
        hint = record.person or record.company or record.deal or ""
    else:
        hint = record.primary_email or display_phone(record.primary_phone)
    return " · ".join(str(part) for part in (record, hint) if part)
