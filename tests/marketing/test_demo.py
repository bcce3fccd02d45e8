"""The demo company's marketing and forecasts: a campaign's own phone number with the new
callers it brought, and the forecasts of the last quarters held against what they won."""

import pytest

from accord.accounts.models import User
from accord.cli import main
from accord.marketing.models import Campaign, LeadLine, Touch
from accord.marketing.queries import campaign_results
from accord.reports.models import Dashboard, ForecastSnapshot
from accord.reports.queries import shown


@pytest.mark.django_db(transaction=True)  # the callers' touches follow the committed events
def test_the_demo_has_a_campaign_number_that_rang_and_forecasts_to_compare(capsys):
    assert main(["demo", "--if-empty"]) == 0
    balconies = Campaign.objects.get(code="insta-balconies")
    line = LeadLine.objects.get()
    assert line.campaign == balconies and line.number.startswith("+")
    callers = Touch.objects.filter(campaign=balconies, medium="call", kind=Touch.FIRST)
    assert callers.count() == 2
    assert campaign_results([balconies])[balconies.pk].leads >= 2  # with the form's visitors

    assert ForecastSnapshot.objects.count() == 5  # the last four quarters and this one
    assert ForecastSnapshot.objects.filter(deals__gt=0).exists()
    head = User.objects.get(email="head@example.com")
    monday = Dashboard.objects.get(name="Monday report")
    widget = monday.widgets.get(report="forecast_accuracy")
    figures = shown(head, widget).figures
    assert any(row["forecast"] for row in figures.rows)  # a quarter with its forecast
