from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "accord.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self):
        # Imported here: models, and what imports them, load once the app registry is ready.
        from accord.core.periodic import every
        from accord.reports import learning, scheduler

        every(scheduler.tick)
        every(learning.tick)
        every(scheduler.forecast_tick)
