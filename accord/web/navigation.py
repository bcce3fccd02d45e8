"""The sidebar: at most eight entries, only for features that exist and the user may use;
on a phone, a bottom bar of at most five with the rest under "More"."""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

MAX_ENTRIES = 8
# Five is as many as fit a 375 px phone with an icon and a whole word each.
PHONE_BAR = 5


@dataclass(frozen=True)
class NavEntry:
    url_name: str
    label: str
    icon: str
    section: str  # the first path segment of the pages under this entry ("" for home)
    shown_to: Callable = lambda user: True
    badge: str = ""  # the URL name of a count shown on the entry (loaded by htmx)
    # Events after which the count is asked again (besides every minute). The badge is
    # one element that only changes its content, and a question asked while one is
    # out waits for its answer: an event before the first answer is not lost.
    badge_on: tuple[str, ...] = ()
    also: tuple[str, ...] = ()  # more sections the entry stands for (Deals: money too)


ENTRIES = [
    NavEntry("today", _("Today"), "sun", ""),
    NavEntry(
        "clients",
        _("Clients"),
        "users",
        "clients",
        lambda u: u.access_level("clients", "read") != "none",
    ),
    NavEntry(
        "deals",
        _("Deals"),
        "handshake",
        "deals",
        lambda u: u.access_level("deals", "read") != "none",
        also=("money",),
    ),
    NavEntry(
        "task_list",
        _("Tasks"),
        "list-checks",
        "tasks",
        lambda u: u.access_level("tasks", "read") != "none",
    ),
    NavEntry(
        "inbox",
        _("Inbox"),
        "inbox",
        "inbox",
        lambda u: (
            u.access_level("clients", "read") != "none" or u.access_level("deals", "read") != "none"
        ),
        badge="inbox_badge",
        badge_on=("accord:inbox-read", "accord:mail-queued"),
    ),
    NavEntry(
        "calendar",
        _("Calendar"),
        "calendar",
        "calendar",
        lambda u: u.access_level("tasks", "read") != "none",
    ),
    NavEntry(
        "reports",
        _("Reports"),
        "chart-column",
        "reports",
        lambda u: u.access_level("reports", "read") != "none",
        also=("marketing",),
    ),
    NavEntry(
        "settings",
        _("Settings"),
        "settings",
        "settings",
        # those who manage users, automation (a head of sales) or the company's settings
        lambda u: u.can("manage_users") or u.can("manage_automation") or u.sets_up_company,
    ),
]

assert len(ENTRIES) <= MAX_ENTRIES, "the sidebar holds at most eight entries"


def entries_for(request) -> list[dict]:
    """The user's entries; those marked "more" go under "More" in the phone's bottom bar."""
    section = request.path.strip("/").split("/")[0]
    shown = [entry for entry in ENTRIES if entry.shown_to(request.user)]
    # Past five, the fifth place is the "More" button itself.
    on_bar = len(shown) if len(shown) <= PHONE_BAR else PHONE_BAR - 1
    return [
        {
            "url": reverse(entry.url_name),
            "label": entry.label,
            "icon": entry.icon,
            "active": section == entry.section or section in entry.also,
            "more": index >= on_bar,
            "badge_url": reverse(entry.badge) if entry.badge else "",
            "badge_id": f"{entry.url_name}-badge",
            "badge_trigger": ", ".join(
                ["load", "every 60s", *(f"{name} from:body" for name in entry.badge_on)]
            ),
        }
        for index, entry in enumerate(shown)
    ]
