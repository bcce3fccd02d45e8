from django.urls import path

from accord.automation import views

urlpatterns = [
    path("settings/automation/", views.rules, name="automation_rules"),
    path("settings/automation/new", views.rule_new, name="rule_new"),
    path(
        "settings/automation/blueprints/<slug:name>",
        views.blueprint_install,
        name="blueprint_install",
    ),
    path("settings/automation/<int:pk>/", views.rule_detail, name="rule_detail"),
    path("settings/automation/<int:pk>/edit", views.rule_edit, name="rule_edit"),
    path("settings/automation/<int:pk>/switch", views.rule_switch, name="rule_switch"),
    path("settings/automation/<int:pk>/test", views.rule_test, name="rule_test"),
    path("settings/automation/<int:pk>/delete", views.rule_delete, name="rule_delete"),
]
