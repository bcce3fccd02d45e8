from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkConfig(AppConfig):
    name = "accord.work"
    label = "work"
    verbose_name = _("Tasks and activities")

    def ready(self):
        # Imported here: models, and what imports them, load once the app registry is ready.
        from accord.contacts.services import LEAD_HANDOVER
        from accord.core.events import subscribe
        from accord.core.periodic import every
        from accord.work.scheduler import tick
        from accord.work.services import lead_distribute
        from accord.work.services.activity_days import on_time_zone_changed

        every(tick)
        subscribe("company.time_zone_changed")(on_time_zone_changed)
        if lead_distribute not in LEAD_HANDOVER:
            LEAD_HANDOVER.append(lead_distribute)
