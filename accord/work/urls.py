from django.urls import path

from accord.work import absence_views, handover_views, views

urlpatterns = [
    path("", views.today, name="today"),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/bulk/", views.task_bulk, name="task_bulk"),
    path("tasks/new/", views.task_new, name="task_new"),
    path("tasks/quick/", views.task_quick, name="task_quick"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("tasks/<int:pk>/complete/", views.task_complete_view, name="task_complete"),
    path("activities/new/", views.activity_new, name="activity_new"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/absences/", absence_views.absences, name="absences"),
    path(
        "settings/users/<int:user_id>/hand-over/",
        handover_views.user_hand_over,
        name="user_hand_over",
    ),
    path(
        "calendar/absences/<int:pk>/delete/",
        absence_views.absence_remove,
        name="absence_delete",
    ),
    path("calendar/schedule/<int:user_id>/", absence_views.schedule, name="work_schedule"),
    path("calendar/renew/", views.calendar_feed_renew, name="calendar_feed_renew"),
    path("calendar/feed/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("tasks/<int:pk>/move/", views.task_move, name="task_move"),
    path("tasks/<int:pk>/<str:action>/", views.task_action, name="task_action"),
    path("work/panel/", views.record_panel, name="work_panel"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/bell/", views.notifications_bell, name="notifications_bell"),
    path("notifications/read/", views.notifications_mark_read, name="notifications_read"),
]
