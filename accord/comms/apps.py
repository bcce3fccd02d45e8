from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommsConfig(AppConfig):
    name = "accord.comms"
    label = "comms"
    verbose_name = _("E-mail, calls and messages")

    def ready(self):
        # Imported here: models, and what imports them, load once the app registry is ready.
        from accord.comms import delivery, fetching, mailings, timeline
        from accord.comms.services import on_person_erased
        from accord.comms.services.calls import call_events_catch_up
        from accord.comms.services.chats import chat_events_catch_up
        from accord.comms.services.threads import replies_late
        from accord.core.events import subscribe
        from accord.core.periodic import every
        from accord.core.ui.records import EVENT_DRESSERS

        every(delivery.tick)
        every(mailings.tick)
        every(fetching.tick)
        every(call_events_catch_up)
        every(chat_events_catch_up)
        every(replies_late)
        subscribe("person.erased")(on_person_erased)
        EVENT_DRESSERS["email"] = timeline.dress
        EVENT_DRESSERS["call"] = timeline.dress_calls
        EVENT_DRESSERS["chat"] = timeline.dress
