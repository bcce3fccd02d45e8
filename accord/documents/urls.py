from django.urls import path

from accord.documents import attachment_views, views

urlpatterns = [
    path("documents/deal/<int:deal_id>/", views.deal_panel, name="deal_documents"),
    path("documents/client/", views.client_panel, name="client_documents"),
    path("files/", attachment_views.attachments_panel, name="attachments"),
    path("files/<int:pk>/remove/", attachment_views.attachment_remove, name="attachment_remove"),
    path("files/<str:token>/<str:name>", attachment_views.attachment_file, name="attachment_file"),
    path("documents/<int:document_id>/again/", views.document_again, name="document_again"),
    path("documents/file/<str:token>/<str:name>", views.document_file, name="document_file"),
    path("settings/documents/", views.settings_documents, name="settings_documents"),
    path("settings/documents/new/", views.template_edit, name="document_template_new"),
    path("settings/documents/preview/", views.template_preview, name="document_template_preview"),
    path(
        "settings/documents/preview/<str:token>/",
        views.template_page,
        name="document_template_page",
    ),
    path(
        "settings/documents/<int:template_id>/", views.template_edit, name="document_template_edit"
    ),
    path(
        "settings/documents/example.docx", views.template_example, name="document_template_example"
    ),
    path(
        "settings/documents/<int:template_id>/try/",
        views.template_try,
        name="document_template_try",
    ),
    path(
        "settings/documents/<int:template_id>/file/",
        views.template_file,
        name="document_template_file",
    ),
    path(
        "settings/documents/tried/<str:token>/<str:name>",
        views.template_filled,
        name="document_template_filled",
    ),
    path(
        "settings/documents/<int:template_id>/retirement/",
        views.template_retirement,
        name="document_template_retirement",
    ),
]
