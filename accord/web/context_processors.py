"""What every page of the shell needs: navigation, "+ New" items, the text direction."""

from django.urls import reverse
from django.utils.translation import get_language_bidi
from django.utils.translation import gettext_lazy as _

from accord.web.navigation import entries_for


def shell(request) -> dict:
    context = {"text_direction": "rtl" if get_language_bidi() else "ltr"}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        context["nav_entries"] = entries_for(request)
        context["nav_more"] = [entry for entry in context["nav_entries"] if entry["more"]]
        context["new_items"] = new_items_for(user)
        context["shows_money"] = user.access_level("invoices", "read") != "none"
    return context


def new_items_for(user) -> list[dict]:
    """What the "+ New" menu offers this user (grows as features land)."""
    items = []
    if user.access_level("clients", "write") != "none":
        items.append({"label": _("Person"), "url": reverse("client_new", args=["people"])})
        items.append({"label": _("Company"), "url": reverse("client_new", args=["companies"])})
    if user.access_level("deals", "write") != "none":
        items.append({"label": _("Deal"), "url": reverse("deal_new")})
    if user.access_level("tasks", "write") != "none":
        items.append({"label": _("Task"), "url": reverse("task_new")})
    if user.access_level("invoices", "write") != "none":
        items.append({"label": _("Invoice"), "url": reverse("invoice_new")})
    if user.can("manage_users"):
        items.append({"label": _("User"), "url": reverse("user_new")})
    return items
