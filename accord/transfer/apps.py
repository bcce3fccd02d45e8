from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransferConfig(AppConfig):
    name = "accord.transfer"
    label = "transfer"
    verbose_name = _("Import and export")

    def ready(self) -> None:
        from accord.core.periodic import every
        from accord.transfer.services import backups_due, imports_resume

        every(imports_resume)
        every(backups_due)
