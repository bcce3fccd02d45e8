from django.urls import path

from accord.marketing import form_views, survey_views, views

urlpatterns = [
    path("marketing/campaigns/", views.campaigns, name="campaigns"),
    path("marketing/campaigns/new/", views.campaign_edit, name="campaign_new"),
    path("marketing/campaigns/spend/", views.spend_import_view, name="spend_import"),
    path("marketing/campaigns/<int:campaign_id>/", views.campaign, name="campaign"),
    path("marketing/campaigns/<int:campaign_id>/edit/", views.campaign_edit, name="campaign_edit"),
    path("marketing/channels/", views.channel_add, name="channel_add"),
    path("marketing/cost-limit/", views.cost_limit, name="cost_limit"),
    path("marketing/lines/", views.lead_line_add, name="lead_line_add"),
    path("marketing/lines/<int:line_id>/delete/", views.lead_line_remove, name="lead_line_remove"),
    path(
        "marketing/channels/<int:channel_id>/retirement/",
        views.channel_retirement,
        name="channel_retirement",
    ),
    path("marketing/forms/", form_views.web_forms, name="web_forms"),
    path("marketing/forms/new/", form_views.web_form_edit, name="web_form_new"),
    path("marketing/forms/<int:form_id>/", form_views.web_form_edit, name="web_form_edit"),
    path(
        "marketing/requests/<int:submission_id>/again/",
        form_views.submission_refile,
        name="submission_refile",
    ),
    path("marketing/client/", views.client_touches, name="client_touches"),
    path("marketing/surveys/", survey_views.surveys, name="surveys"),
    path("marketing/surveys/new/", survey_views.survey_edit, name="survey_new"),
    path("marketing/surveys/<int:survey_id>/", survey_views.survey_page, name="survey"),
    path("marketing/surveys/<int:survey_id>/edit/", survey_views.survey_edit, name="survey_edit"),
]

# The pages visitors open without logging in (a burst of web-form requests among them):
# resolved early, before every page of the app is tried.
public_urlpatterns = [
    path("f/forms.js", form_views.web_form_script, name="web_form_script"),
    path("f/<str:token>/", form_views.web_form_public, name="web_form_public"),
    path("s/<str:token>/", survey_views.survey_public, name="survey_public"),
    path("c/<str:token>/", form_views.consent_public, name="consent_public"),
]
