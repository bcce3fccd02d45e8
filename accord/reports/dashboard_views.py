"""Dashboards: the one a user's role starts with and those they build, each widget a
report drawn as a number, a line, bars, a funnel or a table; one report on a page of its
own with its table and its files (CSV, XLSX); a whole dashboard printed as a PDF."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accord.core.company import default_currency
from accord.core.errors import StaleVersion
from accord.core.spreadsheets import table_file
from accord.core.ui.forms import apply_errors
from accord.core.visibility import NONE, READ, effective_level
from accord.reports import printing, services
from accord.reports.catalog import REPORTS, allowed_reports
from accord.reports.cells import plain
from accord.reports.forms import DashboardForm, FilterForm, ScheduleForm, WidgetForm
from accord.reports.models import Schedule, Widget
from accord.reports.periods import PRESETS
from accord.reports.queries import dashboards_for, own_dashboard, shown, starter


def _may_read(user) -> None:
    if effective_level(user, "reports", READ) == NONE:
        raise Http404


def _board(request, dashboard_id):
    """The dashboard asked for (one of the user's or a shared one), its name and widgets;
    without an id, the one the user's role starts with."""
    if dashboard_id is None:
        name, widgets = starter(request.user)
        return None, name, widgets
    found = get_object_or_404(dashboards_for(request.user), pk=dashboard_id)
    widgets = list(found.widgets.select_related("pipeline", "team", "member"))
    return found, found.name, widgets


def _shown_all(request, widgets, filters: FilterForm) -> list:
    return printing.shown_all(request.user, widgets, filters.overrides())


@login_required
def dashboard(request, dashboard_id: int | None = None):
    _may_read(request.user)
    board, name, widgets = _board(request, dashboard_id)
    filters = FilterForm(request.GET or None, user=request.user)
    boards = list(dashboards_for(request.user))
    return render(request, "reports/dashboard.html", {
        "page_title": name, "board": board, "name": name, "filters": filters,
        "widgets": _shown_all(request, widgets, filters), "boards": boards,
        "starter_name": name if board is None else starter(request.user)[0],
        "mine": board is not None and board.owner_id == request.user.pk,
        "query": request.GET.urlencode(),
    })  # fmt: skip


@login_required
def dashboard_pdf(request, dashboard_id: int | None = None):
    """The dashboard as the user sees it now, printed: numbers, charts drawn as pictures,
    tables, on A4 pages."""
    _may_read(request.user)
    _found, name, widgets = _board(request, dashboard_id)
    filters = FilterForm(request.GET or None, user=request.user)
    pdf = printing.dashboard_pdf(request.user, name, widgets, filters.overrides())
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = slugify(name) or "dashboard"
    response["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
    return response


@login_required
def report_list(request):
    _may_read(request.user)
    return render(request, "reports/report_list.html", {
        "page_title": _("All reports"), "reports": allowed_reports(request.user),
        "campaigns": effective_level(request.user, "campaigns", READ) != NONE,
    })  # fmt: skip


def _one_report(request, key: str):
    report = REPORTS.get(key)
    if report is None or not report.allowed(request.user):
        raise Http404
    default = "next_6_months" if report.ahead else "last_90"
    own = dict(PRESETS)[default]
    filters = FilterForm(request.GET or None, user=request.user, own_period=own)
    chart = request.GET.get("chart") if request.GET.get("chart") in report.charts else None
    chart = chart or next((c for c in report.charts if c != "number"), "table")
    widget = Widget(report=key, chart=chart, period=default)
    return report, filters, shown(request.user, widget, filters.overrides())


@login_required
def report_page(request, key: str):
    _may_read(request.user)
    report, filters, item = _one_report(request, key)
    return render(request, "reports/report.html", {
        "page_title": report.title, "report": report, "item": item, "filters": filters,
        "query": request.GET.urlencode(), "query_without_chart": _without(request.GET, "chart"),
        "drawn_as": [kind for kind in report.charts if kind not in ("number", "table")],
    })  # fmt: skip


def _without(query, key: str) -> str:
    """The page's query string less `key`, ready for another "&key=…"."""
    kept = query.copy()
    kept.pop(key, None)
    return kept.urlencode() + "&" if kept else ""


@login_required
def report_file(request, key: str, fmt: str):
    """The report's table as CSV or XLSX: the figures as numbers, money without its sign
    (the currency is in the header), as the page shows them for the same filters."""
    _may_read(request.user)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    report, _filters, item = _one_report(request, key)
    figures, currency = item.figures, default_currency()
    header = [f"{c.label} ({currency})" if c.kind == "money" else c.label for c in figures.columns]
    rows = [[plain(row.get(c.key), c.kind) for c in figures.columns] for row in figures.rows]
    name = f"{slugify(str(report.title)) or key}-{item.period.since}-{item.period.until}"
    return table_file(fmt, name, header, rows)


# --- Building -----------------------------------------------------------------------------


@login_required
def dashboard_new(request):
    """A new dashboard: empty, or a copy of the one shown (`from`: a dashboard's id, or
    "starter" for the role's)."""
    _may_read(request.user)
    source = request.POST.get("from") or request.GET.get("from") or ""
    form = DashboardForm(request.POST or None, initial={"name": _("My dashboard")})
    if request.method == "POST" and form.is_valid():
        widgets: list = []
        if source == "starter":
            widgets = starter(request.user)[1]
        elif source.isdecimal():
            widgets = list(get_object_or_404(dashboards_for(request.user), pk=source).widgets.all())
        try:
            made = services.dashboard_create(
                actor=request.user, data=form.cleaned_data, widgets=widgets
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            return redirect("dashboard_edit", made.pk)
    return render(request, "reports/dashboard_form.html", {
        "page_title": _("New dashboard"), "form": form, "source": source,
    })  # fmt: skip


@login_required
def dashboard_edit(request, dashboard_id: int):
    _may_read(request.user)
    board = own_dashboard(request.user, dashboard_id)
    if board is None:
        raise Http404
    form = DashboardForm(request.POST or None, initial={"name": board.name, "shared": board.shared})
    if request.method == "POST" and form.is_valid():
        try:
            services.dashboard_update(
                dashboard=board, actor=request.user, data=form.cleaned_data,
                version=int(request.POST.get("version") or 0) or None,
            )  # fmt: skip
        except ValidationError as error:
            apply_errors(form, error)
        except StaleVersion:
            form.add_error(
                None, _("Someone changed this dashboard meanwhile; see it and try again.")
            )
        else:
            messages.success(request, _("Dashboard saved."))
            return redirect("dashboard_edit", board.pk)
    return _edit_page(request, board, form)


def _edit_page(request, board, form, schedule_form=None):
    widgets = list(board.widgets.select_related("pipeline", "team", "member"))
    for widget in widgets:
        widget.report_title = REPORTS[widget.report].title if widget.report in REPORTS else "?"
    return render(request, "reports/dashboard_edit.html", {
        "page_title": board.name, "board": board, "form": form, "widgets": widgets,
        "schedules": board.schedules.select_related("user", "role"),
        "schedule_form": schedule_form or ScheduleForm(user=request.user),
    })  # fmt: skip


@login_required
@require_POST
def schedule_new(request, dashboard_id: int):
    board = own_dashboard(request.user, dashboard_id)
    if board is None:
        raise Http404
    form = ScheduleForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            services.schedule_save(actor=request.user, dashboard=board, data=form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("The dashboard will be sent by e-mail."))
            return redirect("dashboard_edit", board.pk)
    initial = {"name": board.name, "shared": board.shared}
    return _edit_page(request, board, DashboardForm(initial=initial), form)


@login_required
@require_POST
def schedule_delete(request, schedule_id: int):
    schedule = get_object_or_404(
        Schedule.objects.select_related("dashboard"), pk=schedule_id, dashboard__owner=request.user
    )
    services.schedule_delete(schedule=schedule, actor=request.user)
    return redirect("dashboard_edit", schedule.dashboard_id)


@login_required
@require_POST
def dashboard_delete(request, dashboard_id: int):
    board = own_dashboard(request.user, dashboard_id)
    if board is None:
        raise Http404
    services.dashboard_delete(dashboard=board, actor=request.user)
    messages.success(request, _("Dashboard removed."))
    return redirect("reports")


def _widget_form(request, board, widget=None):
    initial = {"period": "last_90"}
    if widget is not None:
        keys = ("report", "chart", "title", "period", "pipeline", "team", "member", "wide")
        initial = {key: getattr(widget, key) for key in keys}
    elif request.GET.get("report") in REPORTS:
        report = REPORTS[request.GET["report"]]
        initial = {"report": report.key, "chart": report.charts[0],
                   "period": "next_6_months" if report.ahead else "last_90"}  # fmt: skip
    form = WidgetForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.widget_save(
                dashboard=board, actor=request.user, data=form.cleaned_data, widget=widget
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            return redirect("dashboard_edit", board.pk)
    return render(request, "reports/widget_form.html", {
        "page_title": _("Change the widget") if widget else _("Add a widget"),
        "form": form, "board": board, "widget": widget,
        "charts_of": {r.key: list(r.charts) for r in allowed_reports(request.user)},
    })  # fmt: skip


@login_required
def widget_new(request, dashboard_id: int):
    _may_read(request.user)
    board = own_dashboard(request.user, dashboard_id)
    if board is None:
        raise Http404
    return _widget_form(request, board)


def _own_widget(request, widget_id: int) -> Widget:
    widget = get_object_or_404(Widget.objects.select_related("dashboard"), pk=widget_id)
    if widget.dashboard.owner_id != request.user.pk:
        raise Http404
    return widget


@login_required
def widget_edit(request, widget_id: int):
    _may_read(request.user)
    widget = _own_widget(request, widget_id)
    return _widget_form(request, widget.dashboard, widget)


@login_required
@require_POST
def widget_delete(request, widget_id: int):
    widget = _own_widget(request, widget_id)
    services.widget_delete(widget=widget, actor=request.user)
    return redirect("dashboard_edit", widget.dashboard_id)


@login_required
@require_POST
def widget_move(request, widget_id: int):
    """A widget one place earlier or later (the arrows), or to a place (a drag and drop,
    answered without a page: 204, or 400 with why)."""
    widget = _own_widget(request, widget_id)
    to = request.POST.get("to")
    if to is None:
        by = -1 if request.POST.get("up") else 1
        services.widget_move(widget=widget, actor=request.user, by=by)
        return redirect("dashboard_edit", widget.dashboard_id)
    if not to.isdecimal() or len(to) > 4:
        return HttpResponseBadRequest(_("Say the place as a whole number from 0."))
    services.widget_move(widget=widget, actor=request.user, to=int(to))
    return HttpResponse(status=204)
