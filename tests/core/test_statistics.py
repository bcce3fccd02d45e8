"""The worker keeps SQLite's planner statistics fresh, once a day; PostgreSQL's own
autovacuum does that there."""

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from accord.contacts.models import Person
from accord.core import periodic, statistics
from accord.core.statistics import planner_statistics_refresh


def analysed_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if not cursor.fetchone():
            return set()
        cursor.execute("SELECT DISTINCT tbl FROM sqlite_stat1")
        return {row[0] for row in cursor.fetchall()}


def test_the_statistics_are_refreshed_once_a_day_on_sqlite(db, monkeypatch):
    monkeypatch.setattr(statistics, "_last", {})
    assert planner_statistics_refresh in periodic.JOBS  # every worker's tick runs it
    Person.objects.bulk_create(Person(first_name=f"P{n}", full_name=f"P{n}") for n in range(30))
    now = timezone.now()
    if connection.vendor != "sqlite":
        assert planner_statistics_refresh(now) is False  # autovacuum's work
        return
    assert "contacts_person" not in analysed_tables()
    assert planner_statistics_refresh(now) is True
    assert "contacts_person" in analysed_tables()
    assert planner_statistics_refresh(now + timedelta(hours=23)) is False
    assert planner_statistics_refresh(now + timedelta(days=1)) is True
