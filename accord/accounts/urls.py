from django.urls import path

from accord.accounts import company_views, field_views, views

urlpatterns = [
    path("login/verify/", views.login_verify, name="login_verify"),
    path("profile/", views.profile, name="profile"),
    path("profile/password/", views.password_change_view, name="password_change"),
    path("profile/two-factor/", views.two_factor, name="two_factor"),
    path("profile/two-factor/off/", views.two_factor_off, name="two_factor_off"),
    path("profile/tokens/", views.token_create_view, name="token_create"),
    path("profile/tokens/<int:token_id>/revoke/", views.token_revoke_view, name="token_revoke"),
    path("settings/", views.settings_home, name="settings"),
    path("settings/users/", views.users, name="users"),
    path("settings/users/new/", views.user_new, name="user_new"),
    path("settings/users/<int:user_id>/", views.user_edit, name="user_edit"),
    path("settings/users/<int:user_id>/activation/", views.user_activation, name="user_activation"),
    path("settings/teams/", views.teams, name="teams"),
    path("settings/teams/new/", views.team_edit, name="team_new"),
    path("settings/teams/<int:team_id>/", views.team_edit, name="team_edit"),
    path("settings/roles/", views.roles, name="roles"),
    path("settings/roles/new/", views.role_edit, name="role_new"),
    path("settings/roles/<int:role_id>/", views.role_edit, name="role_edit"),
    path("settings/security/", views.security, name="security"),
    path("settings/company/", company_views.company_settings, name="company_settings"),
    path("settings/company/logo", company_views.company_image, name="company_logo"),
    path("settings/company/<str:name>", company_views.company_image, name="company_image"),
    path("welcome/", company_views.company_start, name="company_start"),
    path("settings/fields/", field_views.fields, name="fields"),
    path("settings/fields/<str:record_type>/new/", field_views.field_edit, name="field_new"),
    path(
        "settings/fields/<str:record_type>/<int:field_id>/",
        field_views.field_edit,
        name="field_edit",
    ),
    path("settings/fields/<int:field_id>/action/", field_views.field_action, name="field_action"),
]
