from django.urls import path
from django.views.generic import RedirectView

from accord.contacts import views

urlpatterns = [
    path(
        "clients/",
        RedirectView.as_view(pattern_name="client_list", permanent=False),
        {"plural": "people"},
        name="clients",
    ),
    path("clients/<str:plural>/", views.client_list, name="client_list"),
    path("clients/<str:plural>/new/", views.client_new, name="client_new"),
    path("clients/<str:plural>/bulk/", views.bulk, name="client_bulk"),
    path("clients/<str:plural>/pick/", views.pick, name="client_pick"),
    path("clients/<str:plural>/duplicates/", views.duplicates, name="client_duplicates"),
    path("clients/<str:plural>/segments/", views.segment_create, name="segment_create"),
    path("clients/<str:plural>/columns/", views.choose_columns, name="client_columns"),
    path(
        "clients/<str:plural>/segments/<int:segment_id>/delete/",
        views.segment_remove,
        name="segment_delete",
    ),
    path("clients/<str:plural>/merge/", views.merge, name="client_merge"),
    path("clients/people/<int:pk>/export/", views.person_export, name="person_export"),
    path("clients/people/<int:pk>/erase/", views.person_erase_view, name="person_erase"),
    path("clients/<str:plural>/<int:pk>/", views.client_detail, name="client_detail"),
    path("clients/<str:plural>/<int:pk>/edit/", views.client_edit, name="client_edit"),
    path("clients/<str:plural>/<int:pk>/delete/", views.client_delete_view, name="client_delete"),
    path("clients/<str:plural>/<int:pk>/timeline/", views.client_timeline, name="client_timeline"),
    path("clients/<str:plural>/<int:pk>/notes/", views.client_note, name="client_note"),
]
