from django.apps import AppConfig
from django.db.models.signals import pre_save
from django.utils.translation import gettext_lazy as _

from accord.core.limits import check_record_text


def check_accord_record(sender, instance, **kwargs) -> None:
    if sender.__module__.startswith("accord."):  # not Django's sessions, axes ...
        check_record_text(sender, instance, **kwargs)


class CoreConfig(AppConfig):
    name = "accord.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        pre_save.connect(check_accord_record, dispatch_uid="accord.core.limits")
        from accord.core import events, periodic, tasks

        events.run_on_workers(tasks.events_dispatch)
        periodic.every(events.catch_up)
        periodic.every(events.prune)
