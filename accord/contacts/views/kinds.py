"""What differs between the people screens and the company screens, found by the URL."""

from dataclasses import dataclass

from django.http import Http404
from django.utils.translation import gettext_lazy

from accord.contacts import forms
from accord.contacts.queries import (
    COMPANY_SORTS,
    PERSON_SORTS,
    companies_visible_to,
    people_visible_to,
)
from accord.contacts.services.companies import company_create, company_update
from accord.contacts.services.people import person_create, person_update


@dataclass(frozen=True)
class Kind:
    """What differs between the people screens and the company screens."""

    slug: str  # "person" / "company"
    plural: str  # URL segment
    title: str
    new_label: str
    visible: object
    form: type
    create: object
    update: object
    sorts: set
    default_sort: str
    name_field: str


PEOPLE = Kind(
    "person",
    "people",
    gettext_lazy("People"),
    gettext_lazy("New person"),
    people_visible_to,
    forms.PersonForm,
    person_create,
    person_update,
    PERSON_SORTS,
    "full_name",
    "full_name",
)
COMPANIES = Kind(
    "company",
    "companies",
    gettext_lazy("Companies"),
    gettext_lazy("New company"),
    companies_visible_to,
    forms.CompanyForm,
    company_create,
    company_update,
    COMPANY_SORTS,
    "name",
    "name",
)
KINDS = {"people": PEOPLE, "companies": COMPANIES}


def kind_for(plural: str) -> Kind:
    if plural not in KINDS:
        raise Http404
    return KINDS[plural]
