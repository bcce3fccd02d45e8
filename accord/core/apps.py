from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "accord.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from accord.core import events, periodic, tasks

        events.run_on_workers(tasks.events_dispatch)
        periodic.every(events.catch_up)
        periodic.every(events.prune)
