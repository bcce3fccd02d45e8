"""The import screens: upload, set up (columns, duplicates, preview), progress, report."""

import csv
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accord.contacts import columns as list_columns
from accord.contacts.views import kind_for, requested_filters
from accord.core.errors import message_of
from accord.core.spreadsheets import neutral
from accord.core.ui.forms import apply_errors
from accord.transfer import forms, services
from accord.transfer.backup import archives
from accord.transfer.models import BackupSchedule, ExportJob, ImportJob
from accord.transfer.queries import imports_of, preview, progress
from accord.transfer.reading import read_rows


def require_import(request) -> None:
    if not request.user.can("import"):
        raise Http404


@login_required
def imports(request):
    """The user's imports and the form for a new one."""
    require_import(request)
    form = forms.UploadForm(
        request.POST or None,
        request.FILES or None,
        initial={"record_type": request.GET.get("type", "people")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = services.import_upload(
                actor=request.user,
                upload=data["file"],
                record_type=data["record_type"],
                encoding=data["encoding"],
                delimiter=data["delimiter"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            return redirect("import_detail", pk=job.pk)
    return render(
        request,
        "transfer/imports.html",
        {"page_title": _("Import"), "form": form, "jobs": imports_of(request.user)[:20]},
    )


@login_required
def import_detail(request, pk: int):
    """Set up a new import, or follow a running one, or read its report."""
    require_import(request)
    job = get_object_or_404(imports_of(request.user), pk=pk)
    if job.status != ImportJob.NEW:
        return render(
            request,
            "transfer/import_report.html",
            {"page_title": job.file_name, "job": job, "progress": progress(job),
             "failures": job.failures.all()[:20], "warnings": job.warnings.all()[:50]},
        )  # fmt: skip
    custom = job.custom_fields()
    setup = forms.SetupForm(
        request.POST or None,
        job=job,
        custom_fields=custom,
        initial={
            "match_by": job.match_by,
            "on_duplicate": job.on_duplicate,
            "team": job.assign_team,
            "no_automation": not job.run_automation,
        },
    )
    read = forms.ReadForm(initial={"encoding": job.encoding, "delimiter": job.delimiter})
    rows = None
    if request.method == "POST" and setup.is_valid():
        try:
            services.import_configure(
                actor=request.user,
                job=job,
                mapping=setup.mapping(),
                match_by=setup.cleaned_data["match_by"],
                on_duplicate=setup.cleaned_data["on_duplicate"],
                run_automation=not setup.cleaned_data["no_automation"],
                team=setup.cleaned_data.get("team"),
                region=setup.cleaned_data["region"],
            )
            if "start" in request.POST:
                services.import_start(actor=request.user, job=job)
                return redirect("import_detail", pk=job.pk)
            rows = preview(job)
        except ValidationError as error:
            apply_errors(setup, error)
        except PermissionDenied:
            raise Http404 from None
    values = sample(job)
    return render(
        request,
        "transfer/import_setup.html",
        {
            "page_title": job.file_name,
            "job": job,
            "setup": setup,
            "read": read,
            "columns": [(setup[name], values[n]) for n, name in setup.columns],
            "preview": rows,
            "preview_labels": [job.header[int(c)] for c in sorted(job.mapping, key=int)],
        },
    )


def sample(job: ImportJob) -> list[list[str]]:
    """Each column's first three values, to recognise it by."""

    rows = read_rows(Path(job.file.path), job.table())
    next(rows, None)
    first = [row for _n, row in zip(range(3), rows, strict=False)]
    return [[row[n] if n < len(row) else "" for row in first] for n in range(len(job.header))]


@login_required
@require_POST
def import_reread(request, pk: int):
    require_import(request)
    job = get_object_or_404(imports_of(request.user), pk=pk)
    form = forms.ReadForm(request.POST)
    if form.is_valid():
        try:
            services.import_reread(actor=request.user, job=job, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, message_of(error))
        except PermissionDenied:
            raise Http404 from None
    return redirect("import_detail", pk=job.pk)


@login_required
def import_progress(request, pk: int):
    """The progress bar, asked for every second while the import runs (htmx)."""
    require_import(request)
    job = get_object_or_404(imports_of(request.user), pk=pk)
    return render(
        request,
        "transfer/_progress.html",
        {
            "job": job,
            "progress": progress(job),
            "failures": job.failures.all()[:20],
            "warnings": job.warnings.all()[:50],
        },
    )


@login_required
def import_failures(request, pk: int):
    """The rows that failed, as they were in the file, with the reason: a CSV to fix and
    import again."""
    require_import(request)
    job = get_object_or_404(imports_of(request.user), pk=pk)

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())

    def lines():
        yield "\ufeff"  # Excel reads UTF-8 with a BOM
        yield writer.writerow([*job.header, _("Why it was not imported")])
        for failure in job.failures.iterator():
            yield writer.writerow([*map(neutral, failure.values), failure.reason])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="failed-rows-{job.pk}.csv"'
    return response


@login_required
@require_POST
def import_undo(request, pk: int):
    require_import(request)
    job = get_object_or_404(imports_of(request.user), pk=pk)
    try:
        result = services.import_undo(actor=request.user, job=job)
    except ValidationError as error:
        messages.error(request, message_of(error))
    except PermissionDenied:
        raise Http404 from None
    else:
        text = _("Undone: %(removed)s removed, %(restored)s restored.") % result
        if result["kept"]:
            text += " " + _("%(kept)s changed since were kept.") % result
        messages.success(request, text)
    return redirect("import_detail", pk=job.pk)


# --- Export -----------------------------------------------------------------------------


@login_required
@require_POST
def export_new(request, plural: str):
    """Export the list as it is filtered (the form carries the list's query string)."""

    if not request.user.can("export"):
        raise Http404
    kind = kind_for(plural)
    filters, _segment = requested_filters(request.POST, kind, request.user)
    keys = None
    if request.POST.get("columns") == "shown":
        keys = [column[0] for column in list_columns.chosen(request.user, kind.slug)]
    try:
        job = services.export_create(
            actor=request.user,
            record_type=plural,
            fmt=request.POST.get("format", "csv"),
            filters=filters,
            columns=keys,
        )
    except ValidationError as error:
        messages.error(request, message_of(error))
        return redirect("client_list", plural=plural)
    return redirect("export_detail", pk=job.pk)


def exports_of(user):
    return ExportJob.objects.filter(created_by=user)


@login_required
def export_detail(request, pk: int):
    job = get_object_or_404(exports_of(request.user), pk=pk)
    template = "transfer/_export.html" if request.htmx else "transfer/export.html"
    return render(request, template, {"page_title": _("Export"), "job": job})


@login_required
def export_file(request, pk: int):
    job = get_object_or_404(exports_of(request.user), pk=pk, status="done")
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.file_name)


# --- Settings: backups --------------------------------------------------------------------


def require_admin(request) -> None:
    if not request.user.can("manage_users"):
        raise Http404


@login_required
def backups(request):
    """The archives, a backup on request, and the schedule."""

    require_admin(request)
    schedule = BackupSchedule.current()
    form = forms.BackupScheduleForm(
        request.POST or None, initial={"every_hours": schedule.every_hours, "keep": schedule.keep}
    )
    if request.method == "POST" and "now" in request.POST:
        services.backup_request(actor=request.user)
        messages.success(request, _("A backup will be made in a moment; it appears below."))
        return redirect("backups")
    if request.method == "POST" and form.is_valid():
        try:
            services.backup_schedule_save(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("backups")
    files = [
        {"name": path.name, "size": path.stat().st_size, "made": path.stat().st_mtime}
        for path in archives()
    ]
    return render(
        request,
        "transfer/backups.html",
        {
            "page_title": _("Backups"),
            "section": "backups",
            "form": form,
            "schedule": schedule,
            "files": files,
        },
    )


@login_required
def backup_download(request, name: str):
    require_admin(request)
    found = next((path for path in archives() if path.name == name), None)
    if found is None:
        raise Http404
    return FileResponse(found.open("rb"), as_attachment=True, filename=found.name)
