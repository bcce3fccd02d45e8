"""The activities' daily rollups: counted as each is logged, read by the reports (whose
figures equal the activities counted one by one, for every reader), and counted again
when the company's clock moves."""

import datetime

import pytest
import time_machine
from django.db.models import Count

from accord.accounts.services import user_create
from accord.contacts.services import person_create
from accord.core.company import company_date
from accord.core.services import company_profile_update
from accord.reports.catalog import REPORTS
from accord.reports.periods import Period
from accord.reports.queries import scope_for
from accord.work.models import Activity, ActivityDay
from accord.work.queries import activities_visible_to
from accord.work.services import activity_log
from accord.work.services.activity_days import activity_days_rebuild
from tests.conftest import PASSWORD

D = datetime.date


def rollup() -> set:
    return set(ActivityDay.objects.values_list("day", "actor", "kind", "count"))


@pytest.fixture
def logged(admin, owner):
    other = user_create(email="sam@example.com", password=PASSWORD, role="manager")
    actors = (owner, other, admin)
    clients = {a.pk: person_create(actor=a, data={"first_name": "Vera"}) for a in actors}
    moments = ["2026-03-02 09:00Z", "2026-03-02 23:30Z", "2026-03-15 12:00Z", "2026-04-01 08:00Z"]
    for n, moment in enumerate(moments):
        with time_machine.travel(moment):
            for actor in actors[: n % 3 + 1]:
                activity_log(actor=actor, data={"kind": ("call", "meeting")[n % 2],
                                                "person": clients[actor.pk]})  # fmt: skip
    return other


def test_each_activity_logged_is_counted_on_its_company_day_and_a_rebuild_agrees(logged):
    counted = rollup()
    direct = {(company_date(a.occurred_at), a.actor_id, a.kind) for a in Activity.objects.all()}
    assert {(day, actor, kind) for day, actor, kind, _n in counted} == direct
    assert sum(n for *_key, n in counted) == Activity.objects.count() == 7
    assert activity_days_rebuild() == len(counted)
    assert rollup() == counted


def test_the_activity_report_equals_the_activities_counted_one_by_one(admin, owner, logged):
    period = Period(D(2026, 3, 1), D(2026, 4, 30))  # by week
    for reader in (admin, owner, logged):
        with time_machine.travel("2026-05-01 10:00Z"):
            found = REPORTS["activity"].compute(scope_for(reader, period=period))
        direct = activities_visible_to(reader).filter(
            occurred_at__gte=period.start, occurred_at__lt=period.end
        )
        by_kind = dict(direct.values_list("kind").annotate(n=Count("id")).order_by())
        assert found.total == direct.count(), reader
        assert sum(r["call"] for r in found.rows) == by_kind.get("call", 0)
        assert sum(r["meeting"] for r in found.rows) == by_kind.get("meeting", 0)
    # One colleague's: Olivia logged at each of the four moments.
    with time_machine.travel("2026-05-01 10:00Z"):
        hers = REPORTS["activity"].compute(scope_for(admin, period=period, member=owner))
    assert hers.total == Activity.objects.filter(actor=owner).count() == 4


@pytest.mark.django_db(transaction=True)  # the rollups follow the committed change
def test_a_new_company_clock_moves_the_days(admin, logged):
    late = Activity.objects.filter(occurred_at__hour=23).first()  # 23:30 UTC on 2 March
    assert (D(2026, 3, 2), late.actor_id) in {(d, a) for d, a, _k, _n in rollup()}
    company_profile_update(actor=admin, time_zone="Europe/Moscow")  # already 3 March there
    days = {(d, a, k) for d, a, k, _n in rollup()}
    assert (D(2026, 3, 3), late.actor_id, late.kind) in days
    assert sum(n for *_key, n in rollup()) == 7
