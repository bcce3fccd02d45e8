from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from accord.sales.defaults import ensure_default_pipeline


class SalesConfig(AppConfig):
    name = "accord.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self):
        post_migrate.connect(ensure_default_pipeline, sender=self)

        from accord.contacts.services import SEGMENT_CHECKS
        from accord.sales.queries import check_deal_filters

        SEGMENT_CHECKS["deal"] = check_deal_filters
