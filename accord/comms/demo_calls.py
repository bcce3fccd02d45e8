"""The demo company's telephony: an office PBX speaking Accord's JSON format, an extension
for each salesperson, and two months of calls made of the PBX's own events through the
same services as a real webhook — talks on the clients' timelines, missed calls that
were called back (their tasks done), two missed this morning still waiting for a call
back, and a first call from a number nobody knew, which made a new lead."""

import random
from datetime import timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accord.accounts.models import Team, User
from accord.comms.models import Telephony
from accord.comms.services.calls import (
    call_events_apply,
    call_events_store,
    extensions_set,
    telephony_save,
)
from accord.comms.telephony import Signal
from accord.contacts.models import Person

LINE = "+74955550100"  # the office's number


def populate() -> None:
    if Telephony.objects.exists():
        return
    admin = User.objects.filter(role__slug="administrator").order_by("pk").first()
    sellers = list(User.objects.filter(role__slug="manager", is_active=True).order_by("pk"))
    if admin is None or not sellers:
        return
    pbx = telephony_save(
        actor=admin,
        data={"name": "Office PBX (demo)", "secret": "demo-pbx-secret", "callback_minutes": 15,
              "lead_team": Team.objects.exclude(lead_rule="").order_by("pk").first()},
    )  # fmt: skip
    extensions = {str(101 + n): user for n, user in enumerate(sellers)}
    extensions_set(actor=admin, telephony=pbx, extensions=extensions)
    by_user = {user.pk: number for number, user in extensions.items()}
    people = list(
        Person.objects.exclude(primary_phone="")
        .filter(owner__in=sellers)
        .select_related("owner")
        .order_by("pk")[:45]
    )
    rng, now = random.Random(23), timezone.now()
    calls = []
    for n, person in enumerate(people):
        extension = by_user[person.owner_id]
        moment = now - timedelta(days=rng.uniform(1, 60), minutes=rng.randint(0, 600))
        if n % 6 == 5:  # missed, then called back within the hour
            calls.append(_missed(f"demo-{n}-a", person.primary_phone, moment))
            calls.append(_talk(f"demo-{n}-b", "out", person.primary_phone, extension,
                               moment + timedelta(minutes=rng.randint(8, 50)), rng))  # fmt: skip
        else:
            direction = rng.choice(["in", "out", "out"])
            calls.append(
                _talk(f"demo-{n}", direction, person.primary_phone, extension, moment, rng)
            )
    morning = now.replace(hour=9, minute=20, second=0, microsecond=0)
    if morning > now:
        morning -= timedelta(days=1)
    for n, person in enumerate(people[-2:]):  # this morning's, not called back yet
        calls.append(
            _missed(f"demo-today-{n}", person.primary_phone, morning + timedelta(minutes=35 * n))
        )
    calls.append(_missed("demo-new", "+79035550199", morning + timedelta(minutes=90)))
    calls.sort(key=lambda signals: signals[0].at)
    for signals in calls:
        received = parse_datetime(signals[-1].at)
        call_events_apply(call_events_store(telephony=pbx, signals=signals, at=received))


def _missed(call_id: str, number: str, at) -> list[Signal]:
    ring = _signal(call_id, "ringing", "in", number, "", at)
    return [ring, _signal(call_id, "ended", "in", number, "", at + timedelta(seconds=25),
                          duration=0, answered=False)]  # fmt: skip


def _talk(call_id: str, direction: str, number: str, extension: str, at, rng) -> list[Signal]:
    seconds = rng.randint(40, 900)
    answered = at + timedelta(seconds=rng.randint(5, 20))
    return [
        _signal(call_id, "ringing", direction, number, extension, at),
        _signal(call_id, "answered", direction, number, extension, answered),
        _signal(call_id, "ended", direction, number, extension,
                answered + timedelta(seconds=seconds), duration=seconds, answered=True),
    ]  # fmt: skip


def _signal(call_id, kind, direction, number, extension, at, **more) -> Signal:
    return Signal(
        key=f"{call_id}:{kind}", call_id=call_id, kind=kind, direction=direction,
        number=number, line=LINE, extension=extension, at=at.isoformat(), **more,
    )  # fmt: skip
