from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from accord.core.periodic import every


class TransferConfig(AppConfig):
    name = "accord.transfer"
    label = "transfer"
    verbose_name = _("Import and export")

    def ready(self) -> None:
        from accord.transfer.services import backups_due, imports_resume

        every(imports_resume)
        every(backups_due)
