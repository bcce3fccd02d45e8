from django.urls import path

from accord.transfer import views

urlpatterns = [
    path("clients/import/", views.imports, name="imports"),
    path("clients/import/<int:pk>/", views.import_detail, name="import_detail"),
    path("clients/import/<int:pk>/read/", views.import_reread, name="import_reread"),
    path("clients/import/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("clients/import/<int:pk>/failed.csv", views.import_failures, name="import_failures"),
    path("clients/import/<int:pk>/undo/", views.import_undo, name="import_undo"),
    path("clients/export/<int:pk>/", views.export_detail, name="export_detail"),
    path("clients/export/<int:pk>/file/", views.export_file, name="export_file"),
    path("clients/<str:plural>/export/", views.export_new, name="export_new"),
    path("settings/backups/", views.backups, name="backups"),
    path("settings/backups/<str:name>", views.backup_download, name="backup_download"),
]
