"""What every page of the shell needs: the navigation and the text direction."""

from django.utils.translation import get_language_bidi

from accord.web.navigation import entries_for


def shell(request) -> dict:
    context = {"text_direction": "rtl" if get_language_bidi() else "ltr"}
    if getattr(request, "user", None) is not None and request.user.is_authenticated:
        context["nav_entries"] = entries_for(request)
    return context
