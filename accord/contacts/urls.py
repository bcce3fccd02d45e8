from django.urls import path
from django.views.generic import RedirectView

from accord.contacts.views import cards, editing, lists, merge, segments

urlpatterns = [
    path(
        "clients/",
        RedirectView.as_view(pattern_name="client_list", permanent=False),
        {"plural": "people"},
        name="clients",
    ),
    path("clients/<str:plural>/", lists.client_list, name="client_list"),
    path("clients/<str:plural>/new/", editing.client_new, name="client_new"),
    path("clients/<str:plural>/bulk/", lists.bulk, name="client_bulk"),
    path("clients/<str:plural>/pick/", lists.pick, name="client_pick"),
    path("clients/<str:plural>/duplicates/", merge.duplicates, name="client_duplicates"),
    path("clients/<str:plural>/segments/", segments.segment_create, name="segment_create"),
    path("clients/<str:plural>/columns/", lists.choose_columns, name="client_columns"),
    path(
        "clients/<str:plural>/segments/<int:segment_id>/delete/",
        segments.segment_remove,
        name="segment_delete",
    ),
    path("clients/<str:plural>/merge/", merge.merge, name="client_merge"),
    path("clients/people/<int:pk>/export/", merge.person_export, name="person_export"),
    path("clients/people/<int:pk>/erase/", merge.person_erase_view, name="person_erase"),
    path("clients/<str:plural>/<int:pk>/", cards.client_detail, name="client_detail"),
    path("clients/<str:plural>/<int:pk>/edit/", editing.client_edit, name="client_edit"),
    path("clients/<str:plural>/<int:pk>/delete/", editing.client_delete_view, name="client_delete"),
    path("clients/<str:plural>/<int:pk>/timeline/", cards.client_timeline, name="client_timeline"),
    path("clients/<str:plural>/<int:pk>/notes/", cards.client_note, name="client_note"),
]
