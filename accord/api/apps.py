from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "accord.api"
    label = "api"
    verbose_name = _("API")

    def ready(self):
        # Imported here: models, and what imports them, load once the app registry is ready.
        from accord.api.idempotency import forget_answers_about
        from accord.core.events import subscribe

        @subscribe("person.erased")
        def forget_erased_person(event):
            forget_answers_about(f"/api/v1/people/{event.payload['person_id']}")
