from decimal import Decimal

import pytest

from accord.contacts.services import company_create, person_create
from accord.core.models import CompanyProfile
from accord.sales.services import deal_create, line_item_save


@pytest.fixture(autouse=True)
def files_apart(settings, tmp_path):
    """Each test's PDFs and pictures in a folder of its own, not the checkout's var/."""
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture
def our_company(db):
    profile = CompanyProfile.objects.filter(pk=1).first() or CompanyProfile(pk=1)
    profile.name, profile.address = "Okna Plus LLC", "12 Tverskaya street, Moscow"
    profile.tax_id, profile.bank_details = (
        "7701234567",
        "Account 40702810000000000001\nBIC 044525225",
    )
    profile.save()
    CompanyProfile.forget()
    return profile


@pytest.fixture
def deal(owner, our_company):
    company = company_create(actor=owner, data={"name": "Rosa Bakery"})
    person = person_create(
        actor=owner,
        data={
            "first_name": "Anna",
            "last_name": "Petrova",
            "company": company,
            "emails": ["anna@rosa.example"],
            "address": "5 Lenina street",
        },
    )
    deal = deal_create(
        actor=owner,
        data={
            "title": "Windows for the bakery",
            "person": person,
            "company": company,
            "currency": "RUB",
        },
    )
    line_item_save(
        actor=owner,
        deal=deal,
        data={
            "name": "Window 120×140",
            "quantity": 3,
            "unit_price": Decimal("15000"),
            "tax_percent": Decimal("20"),
        },
    )
    line_item_save(
        actor=owner,
        deal=deal,
        data={"name": "Installation", "quantity": 1, "unit_price": Decimal("4500.50")},
    )
    deal.refresh_from_db()
    return deal
