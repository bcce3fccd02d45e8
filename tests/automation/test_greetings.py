"""Greetings: the birthday and holiday blueprints write only to clients who agree and did
not unsubscribe, once a year each, in the client's language; the holidays are the
company's list per country."""

from datetime import date, datetime

import time_machine
from django.test import Client
from django.utils import timezone

from accord.automation import scheduler
from accord.automation.blueprints import install
from accord.automation.holidays import holiday_save
from accord.automation.models import Holiday
from accord.comms import delivery, unsubscribe
from accord.contacts.services import person_create
from accord.core.company import company
from tests.automation.test_blueprints import turn_on


def run_day(day: date) -> None:
    zone = timezone.get_current_timezone()
    for hour in (8, 9):
        moment = datetime(day.year, day.month, day.day, hour, 30, tzinfo=zone)
        with time_machine.travel(moment, tick=False):
            scheduler.tick(moment)
    with time_machine.travel(moment, tick=False):
        delivery.deliver_due()


def client(owner, name, country="", **data):
    return person_create(actor=owner, data={
        "first_name": name, "emails": [f"{name.lower()}@example.com"], "country": country,
        "marketing_consent": True, **data,
    })  # fmt: skip


def test_the_birthday_greeting_speaks_the_clients_language_and_skips_who_unsubscribed(
    admin, owner, smtp_server, settings
):
    settings.EMAIL_ENABLED = True
    client(owner, "Ivan", birthday=date(1990, 5, 4), language="ru")
    gone = client(owner, "Gone", birthday=date(1990, 5, 4))
    Client().post(unsubscribe.url(person_id=gone.pk, address="gone@example.com"))
    turn_on(admin, install(actor=admin, name="birthday-greeting"))

    run_day(date(2027, 5, 4))

    [greeting] = smtp_server
    assert greeting["To"] == "ivan@example.com"
    assert "Ivan" in str(greeting["Subject"]) and "Happy birthday" not in str(greeting["Subject"])
    assert greeting["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_holiday_greeting_goes_to_each_countrys_clients_once_a_year(
    admin, owner, smtp_server, settings
):
    settings.EMAIL_ENABLED = True
    profile = company()
    profile.country = "AM"
    profile.save()
    client(owner, "Aram", "AM")
    client(owner, "Home")  # no country: the company's
    client(owner, "Lea", "LU")
    client(owner, "Nope", "AM", marketing_consent=False)
    turn_on(admin, install(actor=admin, name="holiday-greeting"))
    assert set(Holiday.objects.values_list("country", flat=True)) == {"", "AM"}  # the first list

    run_day(date(2027, 9, 21))  # Independence Day in Armenia
    assert sorted(m["To"] for m in smtp_server) == ["aram@example.com", "home@example.com"]

    holiday_save(actor=admin, name="Our anniversary", country="", month=9, day=22)
    run_day(date(2027, 9, 22))  # a holiday of no country: every client who agrees
    assert len(smtp_server) == 2 + 3

    run_day(date(2028, 1, 1))  # New Year: everyone who agrees
    assert len(smtp_server) == 5 + 3
