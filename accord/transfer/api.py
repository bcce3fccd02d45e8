"""API: imports (upload, set up, preview, start, progress, failed rows, undo) and
exports (create, progress, the file)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from accord.accounts.models import Team
from accord.core.api.pagination import ListParams, Page, paginate
from accord.core.api.problems import Problem, invalid
from accord.core.api.schemas import RecordId, WithId
from accord.core.limits import LIST_ITEMS
from accord.transfer import services
from accord.transfer.models import ExportJob, ImportJob
from accord.transfer.queries import imports_of, preview

router = Router(tags=["imports"])


class ImportOut(WithId):
    record_type: str
    status: str
    file_name: str
    kind: str
    encoding: str
    delimiter: str
    header: list[str]
    mapping: dict[str, str]
    match_by: str
    on_duplicate: str
    run_automation: bool
    region: str
    rows_total: int | None
    rows_done: int
    created: int
    updated: int
    skipped: int
    failed: int
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class SetupIn(Schema):
    mapping: dict[str, str]
    # Any key finds duplicates by all of them (e-mail, phone, external id); "" makes every row new.
    match_by: Literal["email", "phone", "external_id", ""] = "email"
    on_duplicate: Literal["skip", "update", "create"] = "skip"
    run_automation: bool = True  # false: the imported records start no automation rule
    team: str | None = None  # a team's id: its lead rule gives new people their owner
    # The country of numbers without a +code (ISO code; "" for the company's default).
    region: str | None = None


class PreviewCell(Schema):
    value: str
    problem: str
    warning: str = ""  # imported, but kept as typed: a phone number not valid in its country


class PreviewRowOut(Schema):
    number: int
    cells: list[PreviewCell]
    action: str


class FailureOut(WithId):
    row: int
    values: list[str]
    reason: str


class WarningOut(WithId):
    row: int
    column: str
    value: str
    message: str


class ExportIn(Schema):
    record_type: Literal["people", "companies"] = "people"
    format: Literal["csv", "xlsx"] = "csv"
    filters: dict[str, str] = {}
    columns: Annotated[list[str], Field(max_length=LIST_ITEMS)] | None = None


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportOut(WithId):
    record_type: str
    format: str
    status: str
    rows_total: int
    rows_done: int
    error: str
    file: str | None
    created_at: datetime

    @staticmethod
    def resolve_file(job) -> str | None:
        return f"/api/v1/exports/{job.pk}/file" if job.status == ExportJob.DONE else None


def mine(request, job_id: int) -> ImportJob:
    if not request.auth.can("import"):
        raise Problem(403, "Your role does not allow importing.")
    return get_object_or_404(imports_of(request.auth), pk=job_id)


def run(action) -> Any:
    """A service call whose refusals become problem documents."""
    try:
        return action()
    except ValidationError as error:
        raise invalid(error) from None
    except PermissionDenied as error:
        raise Problem(403, str(error)) from None


@router.post("/imports", response={201: ImportOut}, summary="Upload a file to import")
def imports_create(
    request,
    file: File[UploadedFile],
    record_type: Form[Literal["people", "companies"]] = "people",
    encoding: Form[str] = "",
    delimiter: Form[str] = "",
):
    job = run(
        lambda: services.import_upload(
            actor=request.auth,
            upload=file,
            record_type=record_type,
            encoding=encoding,
            delimiter=delimiter,
        )
    )
    return Status(201, job)


@router.get("/imports", response=Page[ImportOut], summary="My imports")
def imports_list(request, params: Query[ListParams]):
    return paginate(
        imports_of(request.auth), params, sorts={"created_at"}, default_sort="-created_at"
    )


@router.get("/imports/{job_id}", response=ImportOut, summary="An import and its progress")
def imports_detail(request, job_id: RecordId):
    return mine(request, job_id)


@router.put("/imports/{job_id}/setup", response=ImportOut, summary="Columns and duplicates")
def imports_setup(request, job_id: RecordId, payload: SetupIn):
    job = mine(request, job_id)
    return run(
        lambda: services.import_configure(
            actor=request.auth,
            job=job,
            mapping=payload.mapping,
            match_by=payload.match_by,
            on_duplicate=payload.on_duplicate,
            run_automation=payload.run_automation,
            team=setup_team(payload.team),
            region=payload.region,
        )
    )


def setup_team(team_id: str | None):
    """The team an import hands new people to (ValidationError naming the field)."""
    if not team_id:
        return None
    team = Team.objects.filter(pk=int(team_id)).first() if team_id.isdecimal() else None
    if team is None:
        raise ValidationError({"team": [_("There is no such team.")]})
    return team


@router.get(
    "/imports/{job_id}/preview", response=list[PreviewRowOut], summary="The first rows as saved"
)
def imports_preview(request, job_id: RecordId):
    job = mine(request, job_id)
    return [
        {
            "number": row.number,
            "cells": [{"value": v, "problem": p, "warning": w} for v, p, w in row.cells],
            "action": row.action,
        }
        for row in preview(job)
    ]


@router.post("/imports/{job_id}/start", response={202: ImportOut}, summary="Start the import")
def imports_start(request, job_id: RecordId):
    job = mine(request, job_id)
    return Status(202, run(lambda: services.import_start(actor=request.auth, job=job)))


@router.get(
    "/imports/{job_id}/failures", response=Page[FailureOut], summary="The rows not imported"
)
def imports_failures(request, job_id: RecordId, params: Query[ListParams]):
    job = mine(request, job_id)
    return paginate(job.failures.all(), params, sorts={"row"}, default_sort="row")


@router.get(
    "/imports/{job_id}/warnings",
    response=Page[WarningOut],
    summary="What rows kept as typed (phone numbers not valid in their country)",
)
def imports_warnings(request, job_id: RecordId, params: Query[ListParams]):
    job = mine(request, job_id)
    return paginate(job.warnings.all(), params, sorts={"row"}, default_sort="row")


class UndoOut(Schema):
    removed: int
    restored: int
    kept: int


@router.post("/imports/{job_id}/undo", response=UndoOut, summary="Undo the import")
def imports_undo(request, job_id: RecordId):
    job = mine(request, job_id)
    return run(lambda: services.import_undo(actor=request.auth, job=job))


@router.post(
    "/exports", response={201: ExportOut}, summary="Export a client list", tags=["exports"]
)
def exports_create(request, payload: ExportIn):
    job = run(
        lambda: services.export_create(
            actor=request.auth,
            record_type=payload.record_type,
            fmt=payload.format,
            filters=payload.filters,
            columns=payload.columns,
        )
    )
    return Status(201, job)


@router.get("/exports/{job_id}", response=ExportOut, summary="An export", tags=["exports"])
def exports_detail(request, job_id: RecordId):
    return get_object_or_404(ExportJob.objects.filter(created_by=request.auth), pk=job_id)


@router.get(
    "/exports/{job_id}/file",
    summary="The exported file",
    tags=["exports"],
    openapi_extra={
        "responses": {
            200: {
                "description": "The file, as an attachment",
                "content": {
                    "text/csv": {"schema": {"type": "string", "format": "binary"}},
                    XLSX: {"schema": {"type": "string", "format": "binary"}},
                },
            }
        }
    },
)
def exports_file(request, job_id: RecordId):
    job = get_object_or_404(
        ExportJob.objects.filter(created_by=request.auth, status=ExportJob.DONE), pk=job_id
    )
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.file_name)
