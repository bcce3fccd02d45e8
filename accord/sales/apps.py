from django.apps import AppConfig
from django.db.models.signals import post_migrate, post_save, pre_save
from django.utils.translation import gettext_lazy as _

from accord.sales.defaults import ensure_default_pipeline


class SalesConfig(AppConfig):
    name = "accord.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self):
        post_migrate.connect(ensure_default_pipeline, sender=self)

        from accord.contacts.services import SEGMENT_CHECKS
        from accord.core.events import subscribe
        from accord.sales.models import Deal
        from accord.sales.queries import check_deal_filters
        from accord.sales.services import deal_days

        SEGMENT_CHECKS["deal"] = check_deal_filters
        # The closed deals' rollups follow every save of a deal, whichever service made it
        # (signals rather than a call in each: a new service cannot forget them).
        pre_save.connect(deal_days.remember, sender=Deal, dispatch_uid="deal_days_remember")
        post_save.connect(deal_days.follow, sender=Deal, dispatch_uid="deal_days_follow")
        subscribe("company.time_zone_changed")(deal_days.on_time_zone_changed)
