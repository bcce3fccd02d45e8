from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "accord.documents"
    label = "documents"
    verbose_name = _("Documents")

    def ready(self):
        # Imported here: models, and what imports them, load once the app registry is ready.
        from accord.documents.services.templates import ensure_shipped_documents

        post_migrate.connect(ensure_shipped_documents, sender=self)
