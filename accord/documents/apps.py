from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "accord.documents"
    label = "documents"
    verbose_name = _("Documents")

    def ready(self):
        # Imported here: models, and what imports them, load once the app registry is ready.
        from accord.comms.attachments import ATTACHABLE
        from accord.documents.queries import offered_pdf
        from accord.documents.services.templates import ensure_shipped_documents

        post_migrate.connect(ensure_shipped_documents, sender=self)
        ATTACHABLE["document"] = offered_pdf  # "Send by e-mail" attaches the PDF
