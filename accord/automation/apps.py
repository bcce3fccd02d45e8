from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "accord.automation"
    label = "automation"
    verbose_name = _("Automation")

    def ready(self):
        # Imported here: models, and what imports them, load once the app registry is ready.
        from accord.automation import api, engine, imports, pickers, records, scheduler, services
        from accord.comms import merge
        from accord.core import callers
        from accord.core.events import subscribe
        from accord.core.periodic import every

        callers.register(api.HOOKS, api.hook_caller)

        subscribe("*")(engine.on_event)
        subscribe("*")(imports.on_event)
        subscribe("person.erased")(services.on_erased)
        subscribe("segment.deleted")(services.on_segment_deleted)
        every(scheduler.tick)
        # E-mail templates and mailings show a client as rules do (comms sits below).
        merge.RECORD_VIEWS[:] = [records.views]
        merge.MERGE_FIELDS[:] = [pickers.merge_fields]
