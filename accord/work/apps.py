from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkConfig(AppConfig):
    name = "accord.work"
    label = "work"
    verbose_name = _("Tasks and activities")

    def ready(self):
        from accord.core.periodic import every
        from accord.work.scheduler import tick

        every(tick)
