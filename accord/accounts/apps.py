from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accord.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        # Imported here: models, and what imports them, load once the app registry is ready.
        from accord.accounts import signals  # noqa: F401 (connects the receivers)
        from accord.accounts.models import Team
        from accord.accounts.roles import ensure_shipped_roles
        from accord.core.ui.records import LEAD_RULE_WORDS

        post_migrate.connect(ensure_shipped_roles, sender=self)
        LEAD_RULE_WORDS.update(Team.LEAD_RULES)
