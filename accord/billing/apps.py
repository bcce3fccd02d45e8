from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "accord.billing"
    label = "billing"
    verbose_name = _("Money")

    def ready(self):
        # Imported here: models, and what imports them, load once the app registry is ready.
        from accord.billing import scheduler
        from accord.billing.queries import client_paid
        from accord.billing.services.expenses import ensure_expense_categories
        from accord.core.periodic import every
        from accord.documents.queries import MADE_ELSEWHERE
        from accord.sales.pricing import PAID_BY_CLIENT

        post_migrate.connect(ensure_expense_categories, sender=self)
        every(scheduler.tick)
        MADE_ELSEWHERE.update({"invoice", "credit_note"})  # made from an invoice, not a deal
        PAID_BY_CLIENT["paid"] = client_paid  # personal discounts measure what was paid
