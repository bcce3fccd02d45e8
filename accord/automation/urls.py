from django.urls import path

from accord.automation import holiday_views, views

urlpatterns = [
    path("settings/automation/", views.rules, name="automation_rules"),
    path("settings/automation/new", views.rule_new, name="rule_new"),
    path("settings/automation/holidays/", holiday_views.holidays, name="holidays"),
    path("settings/automation/holidays/fill", holiday_views.holidays_fill, name="holidays_fill"),
    path(
        "settings/automation/holidays/<int:pk>/remove",
        holiday_views.holiday_remove,
        name="holiday_remove",
    ),
    path(
        "settings/automation/blueprints/<slug:name>",
        views.blueprint_install,
        name="blueprint_install",
    ),
    path("settings/automation/<int:pk>/", views.rule_detail, name="rule_detail"),
    path("settings/automation/<int:pk>/edit", views.rule_edit, name="rule_edit"),
    path("settings/automation/<int:pk>/switch", views.rule_switch, name="rule_switch"),
    path("settings/automation/<int:pk>/test", views.rule_test, name="rule_test"),
    path("settings/automation/<int:pk>/records", views.rule_test_pick, name="rule_test_pick"),
    path("settings/automation/<int:pk>/delete", views.rule_delete, name="rule_delete"),
]
