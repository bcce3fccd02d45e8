"""Reads of imports: a user's own, a preview of the first rows, the progress figures."""

from dataclasses import dataclass
from pathlib import Path

from django.db.models import QuerySet

from accord.accounts.models import User
from accord.contacts.queries import companies_visible_to, filter_clients, people_visible_to
from accord.transfer.importer import Importer
from accord.transfer.models import ImportJob
from accord.transfer.reading import read_rows


def imports_of(user) -> QuerySet[ImportJob]:
    """The imports a user made (an administrator sees everyone's)."""
    jobs = ImportJob.objects.select_related("created_by")
    return jobs if user.can("manage_users") else jobs.filter(created_by=user)


@dataclass
class PreviewRow:
    number: int
    # per mapped column: the value as it will be saved, a problem, a warning (kept as typed)
    cells: list[tuple[str, str, str]]
    action: str  # create, update, skip, fail


def preview(job: ImportJob, limit: int = 10) -> list[PreviewRow]:
    """The first rows as the import would save them, each problem beside its cell, and
    what would happen to each row (a duplicate of a record already there or above)."""
    importer = Importer(job)
    rows = read_rows(Path(job.file.path), job.table())
    next(rows, None)
    cleaned = []
    for number, raw in enumerate(rows, start=2):
        cleaned.append(importer.clean(number, raw))
        if len(cleaned) == limit:
            break
    matches = importer.duplicates([r for r in cleaned if not r.problems])
    result = []
    columns = sorted(importer.cleaner.mapping.items())
    for row in cleaned:
        if row.problems:
            action = "fail"
        elif row.number in matches and job.on_duplicate != ImportJob.CREATE:
            action = "update" if job.on_duplicate == ImportJob.UPDATE else "skip"
        else:
            action = "create"
        warnings = {column: why for column, _value, why in row.warnings}
        cells = [
            (row.raw[column] if column < len(row.raw) else "", row.problems.get(target, ""),
             warnings.get(column, ""))
            for column, target in columns
        ]  # fmt: skip
        result.append(PreviewRow(number=row.number, cells=cells, action=action))
    return result


@dataclass
class Progress:
    done: int
    total: int | None
    percent: int
    rate: float  # rows a second
    seconds_left: int | None


def progress(job: ImportJob) -> Progress:
    total = job.rows_total
    percent = 100 if job.status == ImportJob.DONE else (
        int(job.rows_done * 100 / total) if total else 0
    )  # fmt: skip
    rate, left = 0.0, None
    if job.started_at and job.beat_at and job.rows_done:
        seconds = max((job.beat_at - job.started_at).total_seconds(), 0.001)
        rate = job.rows_done / seconds
        if total and job.is_active:
            left = int((total - job.rows_done) / rate) if rate else None
    return Progress(job.rows_done, total, min(percent, 100), rate, left)


def export_queryset(user: User, record_type: str, filters: dict):
    """The records the list shows `user` with these filters (ValidationError on a bad one)."""

    kind = "person" if record_type == "people" else "company"
    visible = people_visible_to(user) if kind == "person" else companies_visible_to(user)
    return filter_clients(visible, kind, filters, user=user)
