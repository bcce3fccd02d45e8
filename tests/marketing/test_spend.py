"""Ad spend from an ad platform's CSV: each campaign's day becomes its cost (an expense
through the billing services), again changes nothing, bad rows are named, the rest kept;
marketing records it without the money role, a manager cannot."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accord.accounts.services import user_create
from accord.billing.models import Expense
from accord.marketing.models import Channel
from accord.marketing.queries import campaign_results
from accord.marketing.services import campaign_save
from accord.marketing.services.spend import read_day, spend_import
from tests.conftest import PASSWORD, log_in

EXPORT = """Day;Campaign;Cost (USD)
2026-03-01;Spring sale;10,50
2026-03-01;spring-sale;4,50
2026-03-02;Spring sale;12
02/03/2026;Spring sale;1
2026-03-03;Nobody's campaign;5
2026-13-40;Spring sale;5
2026-03-04;Spring sale;lots
03/15/2026;Insta;7
"""


@pytest.fixture
def marketer(db):
    return user_create(email="mark@example.com", password=PASSWORD, role="marketing")


@pytest.fixture
def campaigns(marketer):
    ads, social = Channel.objects.get(code="ads"), Channel.objects.get(code="social")
    spring = campaign_save(actor=marketer, data={"name": "Spring sale", "code": "spring-sale",
                                                 "channel": ads, "currency": "USD"})  # fmt: skip
    insta = campaign_save(actor=marketer, data={"name": "Insta", "channel": social,
                                                "currency": "USD"})  # fmt: skip
    return spring, insta


def test_an_ad_platform_export_becomes_each_campaign_s_daily_cost(marketer, campaigns):
    spring, insta = campaigns
    report = spend_import(actor=marketer, data=EXPORT.encode(), currency="EUR")
    assert (report.added, report.changed, report.unchanged) == (3, 0, 0)
    assert [line for line, _text in report.problems] == [5, 6, 7, 8]
    costs = {(e.campaign, e.spent_on): (e.amount, e.currency, e.category.name)
             for e in Expense.objects.all()}  # fmt: skip
    assert costs == {
        (spring, date(2026, 3, 1)): (Decimal("15.00"), "USD", "Advertising"),  # by name and code
        (spring, date(2026, 3, 2)): (Decimal("12.00"), "USD", "Advertising"),
        (insta, date(2026, 3, 15)): (Decimal("7.00"), "USD", "Advertising"),  # 15 > 12: the day
    }
    assert campaign_results([spring])[spring.pk].spent == {"USD": Decimal("27.00")}
    again = spend_import(actor=marketer, data=EXPORT.encode(), currency="EUR")
    assert (again.added, again.changed, again.unchanged) == (0, 0, 3)
    corrected = EXPORT.replace("2026-03-02;Spring sale;12", "2026-03-02;Spring sale;20")
    assert spend_import(actor=marketer, data=corrected.encode(), currency="EUR").changed == 1
    assert Expense.objects.count() == 3


def test_a_file_without_its_columns_or_from_one_who_runs_no_campaign_is_refused(
    marketer, campaigns, owner
):
    with pytest.raises(ValidationError) as refused:
        spend_import(actor=marketer, data=b"when,what\n2026-03-01,x", currency="USD")
    assert "a date, a campaign and an amount" in refused.value.message_dict["file"][0]
    with pytest.raises(ValidationError):
        spend_import(actor=marketer, data=b"\xff\xfe\x00\x00" * 10, currency="USD")
    with pytest.raises(PermissionDenied):
        spend_import(actor=owner, data=EXPORT.encode(), currency="USD")


def test_days_are_read_as_platforms_write_them_and_never_guessed():
    assert read_day("2026-03-04") == date(2026, 3, 4)
    assert read_day("04.03.2026") == date(2026, 3, 4)
    assert read_day("Mar 4, 2026") == date(2026, 3, 4)
    assert read_day("25/03/2026") == date(2026, 3, 25)
    assert read_day("03/25/2026") == date(2026, 3, 25)
    assert read_day("03/04/2026") is None  # March 4th or April 3rd: not guessed
    assert read_day("yesterday") is None


def test_the_page_imports_and_lists_what_it_did_not_read(marketer, campaigns):
    client = Client()
    assert log_in(client, marketer.email)
    assert "Import ad spend" in client.get("/marketing/campaigns/").content.decode()
    upload = SimpleUploadedFile("spend.csv", EXPORT.encode(), content_type="text/csv")
    page = client.post("/marketing/campaigns/spend/", {"file": upload, "currency": "USD"})
    text = page.content.decode()
    assert "3 campaign days added" in text and "4 rows were not read" in text
    assert "Line 6" in text and "There is no campaign" in text
