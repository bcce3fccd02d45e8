"""The sidebar: at most eight entries, only for features that exist."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

MAX_ENTRIES = 8


@dataclass(frozen=True)
class NavEntry:
    url_name: str
    label: str
    icon: str


ENTRIES = [
    NavEntry("today", _("Today"), "sun"),
]

assert len(ENTRIES) <= MAX_ENTRIES, "the sidebar holds at most eight entries"


def entries_for(request) -> list[dict]:
    current = request.resolver_match.url_name if request.resolver_match else ""
    return [
        {
            "url": reverse(entry.url_name),
            "label": entry.label,
            "icon": entry.icon,
            "active": entry.url_name == current,
        }
        for entry in ENTRIES
    ]
