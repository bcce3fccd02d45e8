from django.urls import path

from accord.reports import dashboard_views as boards
from accord.reports import views

urlpatterns = [
    path("reports/", boards.dashboard, name="reports"),
    path("reports/pdf/", boards.dashboard_pdf, name="dashboard_pdf_starter"),
    path("reports/all/", boards.report_list, name="report_list"),
    path("reports/r/<slug:key>/", boards.report_page, name="report_page"),
    path("reports/r/<slug:key>/file.<str:fmt>", boards.report_file, name="report_file"),
    path("reports/dashboards/new/", boards.dashboard_new, name="dashboard_new"),
    path("reports/dashboards/<int:dashboard_id>/", boards.dashboard, name="dashboard"),
    path("reports/dashboards/<int:dashboard_id>/pdf/", boards.dashboard_pdf, name="dashboard_pdf"),
    path("reports/dashboards/<int:dashboard_id>/edit/", boards.dashboard_edit,
         name="dashboard_edit"),
    path("reports/dashboards/<int:dashboard_id>/delete/", boards.dashboard_delete,
         name="dashboard_delete"),
    path("reports/dashboards/<int:dashboard_id>/widgets/new/", boards.widget_new,
         name="widget_new"),
    path("reports/dashboards/<int:dashboard_id>/schedules/", boards.schedule_new,
         name="schedule_new"),
    path("reports/schedules/<int:schedule_id>/delete/", boards.schedule_delete,
         name="schedule_delete"),
    path("reports/widgets/<int:widget_id>/", boards.widget_edit, name="widget_edit"),
    path("reports/widgets/<int:widget_id>/delete/", boards.widget_delete, name="widget_delete"),
    path("reports/widgets/<int:widget_id>/move/", boards.widget_move, name="widget_move"),
    path("reports/funnel/", views.funnel_report, name="funnel_report"),
    path("reports/people/", views.people_report, name="people_report"),
    path("reports/communication/", views.communication_report, name="communication_report"),
]  # fmt: skip
