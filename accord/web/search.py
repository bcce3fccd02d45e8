"""Global search: each kind of record answers a query through its visibility-scoped query."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accord.accounts.queries import users_search
from accord.contacts.queries import search_companies, search_people
from accord.core.phones import display_phone
from accord.web.templatetags.shell import initials_of as initials

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
            "kind": _("People"),
            "hits": [
                Hit(
                    str(p),
                    person_subtitle(p),
                    reverse("client_detail", args=["people", p.pk]),
                    initials(str(p)),
                )
                for p in search_people(user, query)
            ],
        },
        {
            "kind": _("Companies"),
            "hits": [
                Hit(
                    str(c),
                    display_phone(c.primary_phone) or c.primary_email or c.city,
                    reverse("client_detail", args=["companies", c.pk]),
                    initials(str(c)),
                )
                for c in search_companies(user, query)
            ],
        },
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


def person_subtitle(person) -> str:
    parts = [
        person.company.name if person.company_id else "",
        display_phone(person.primary_phone),
        person.primary_email,
    ]
    return " · ".join(part for part in parts if part)
