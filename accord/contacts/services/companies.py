"""Writes about companies: create and change."""

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.contacts.models import Company
from accord.contacts.services.clients import clean_common, create, finish_clean, update


def clean_company(actor: User, data: dict, *, current: Company | None) -> dict:
    errors: dict[str, list[str]] = {}
    clean_common(actor, data, errors, model=Company)
    if data.get("website"):
        website = data["website"]
        if "://" not in website:
            website = data["website"] = f"https://{website}"
        try:
            URLValidator(schemes=["http", "https"])(website)
        except ValidationError:
            errors["website"] = [_("Enter a web address, e.g. example.com.")]
    if (current is None or "name" in data) and not data.get("name"):
        errors["name"] = [_("Give the company a name.")]
    return finish_clean("company", data, errors, current)


@transaction.atomic
def company_create(*, actor: User, data: dict) -> Company:
    return create(Company, actor, data, clean_company)


@transaction.atomic
def company_update(
    *, actor: User, company: Company, data: dict, version: int | None = None
) -> Company:
    return update(company, actor, data, version, clean_company)
