from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "accord.marketing"
    label = "marketing"
    verbose_name = _("Marketing")

    def ready(self):
        # Imported here: models, and what imports them, load once the app registry is ready.
        from accord.billing.services.expenses import EXPENSE_CAMPAIGNS
        from accord.comms.services.mailings import MAILING_CAMPAIGNS
        from accord.contacts.services.people import BEFORE_ERASE
        from accord.core.events import subscribe
        from accord.core.periodic import every
        from accord.marketing.queries import campaigns_visible_to
        from accord.marketing.services import consent, ensure_shipped_channels, surveys
        from accord.marketing.services.filing import submissions_catch_up
        from accord.marketing.services.forms import forget_requests, on_erased
        from accord.marketing.services.lines import on_lead_arrived

        post_migrate.connect(ensure_shipped_channels, sender=self)
        every(submissions_catch_up)  # web-form requests whose pass was lost
        subscribe("person.erased")(on_erased)  # what their requests said goes with them
        BEFORE_ERASE.append(forget_requests)  # and the requests not yet theirs
        subscribe("person.erased")(surveys.on_erased)  # and their comments
        subscribe("person.erased")(consent.on_erased)  # and the addresses to confirm
        subscribe("lead.arrived")(on_lead_arrived)  # a call or a message made a client
        EXPENSE_CAMPAIGNS["visible"] = campaigns_visible_to  # an expense may name a campaign
        # ... and one who runs the campaign records its costs
        EXPENSE_CAMPAIGNS["changeable"] = lambda actor: campaigns_visible_to(actor, "write")
        MAILING_CAMPAIGNS["visible"] = campaigns_visible_to  # a mailing may be a campaign's
