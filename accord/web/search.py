"""Global search: each kind of record answers a query through its visibility-scoped query."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accord.accounts.queries import users_search

MIN_QUERY = 2


@dataclass(frozen=True)
class Hit:
    title: str
    subtitle: str
    url: str
    initials: str


def search_everything(user, query: str) -> list[dict]:
    """Results grouped by kind: [{"kind": label, "hits": [Hit, ...]}], empty kinds left out."""
    query = query.strip()
    if len(query) < MIN_QUERY:
        return []
    groups = [
        {
            "kind": _("Colleagues"),
            "hits": [
                Hit(str(person), person.email, colleague_url(user, person), person.initials)
                for person in users_search(user, query)
            ],
        },
    ]
    return [group for group in groups if group["hits"]]


def colleague_url(user, person) -> str:
    if user.can("manage_users"):
        return reverse("user_edit", args=[person.pk])
    return "mailto:" + person.email
