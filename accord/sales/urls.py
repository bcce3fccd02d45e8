from django.urls import path

from accord.sales import views

urlpatterns = [
    path("deals/", views.deals_home, name="deals"),
    path("deals/board/<int:pipeline_id>/", views.deal_board, name="deal_board"),
    path("deals/new/", views.deal_new, name="deal_new"),
    path("deals/<int:pk>/", views.deal_detail, name="deal_detail"),
    path("deals/<int:pk>/edit/", views.deal_edit, name="deal_edit"),
    path("deals/<int:pk>/move/", views.deal_move_view, name="deal_move"),
    path("deals/<int:pk>/timeline/", views.deal_timeline, name="deal_timeline"),
    path("deals/<int:pk>/<str:action>/", views.deal_action, name="deal_action"),
]
