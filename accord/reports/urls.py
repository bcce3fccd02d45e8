from django.urls import path

from accord.reports import views

urlpatterns = [
    path("reports/", views.funnel_report, name="reports"),
    path("reports/people/", views.people_report, name="people_report"),
    path("reports/communication/", views.communication_report, name="communication_report"),
]
