"""An export holds every field as the list's user reads it: phones, e-mails and tags
joined, custom fields, moments on the exporter's clock (summer time too), days, yes/no,
formulas neutralised in CSV and kept as text in Excel; a big list comes out whole and
in order while the worker reads it ahead on two connections."""

import datetime

import pytest

from accord.accounts.services import user_update
from accord.contacts.models import Person
from accord.contacts.services import person_create
from accord.core.services import custom_field_save
from accord.transfer import exporting, services, stored
from accord.transfer.services import exports
from tests.transfer.test_export import read

UTC = datetime.UTC


@pytest.fixture
def fields(admin):
    """Custom fields of four kinds."""
    return [
        custom_field_save(actor=admin, record_type="person", label="Motto", type="text"),
        custom_field_save(actor=admin, record_type="person", label="Budget", type="number"),
        custom_field_save(actor=admin, record_type="person", label="Newsletter", type="boolean"),
        custom_field_save(actor=admin, record_type="person", label="Interests",
                          type="multi_choice", choices=["sails", "ropes", "=cmd"]),
    ]  # fmt: skip


@pytest.fixture
def berliner(admin, fields):
    """Someone Ada last spoke to in summer, born in winter, with everything filled in."""
    person = person_create(
        actor=admin,
        data={"first_name": "Greta", "last_name": "Lang", "birthday": "1990-01-31",
              "tags": ["vip", "Alpha", "-minus"], "marketing_consent": True,
              "phones": [{"number": "+4930123456", "label": ""},
                         {"number": "+79123456789", "label": ""}],
              "emails": [{"address": "greta@example.com", "label": ""},
                         {"address": "g.lang@example.org", "label": ""}],
              "custom_fields": {"motto": "=SUM(A1)", "budget": 12.5, "newsletter": False,
                                "interests": ["sails", "=cmd"]}},
    )  # fmt: skip
    summer = datetime.datetime(2026, 7, 1, 21, 30, 59, 999_900, tzinfo=UTC)
    Person.objects.filter(pk=person.pk).update(last_contact_at=summer)
    return person


def exported(admin, fmt: str, zone: str) -> dict:
    user_update(user=admin, actor=admin, time_zone=zone)
    job = services.export_create(actor=admin, record_type="people", fmt=fmt)
    lines = read(job)
    return dict(zip(lines[0], lines[1], strict=True))


def test_every_field_in_csv_as_the_user_reads_it(admin, berliner):
    greta = exported(admin, "csv", "Europe/Berlin")
    assert greta["All phones"] == "'+4930123456, +79123456789"  # in their order
    assert greta["All e-mails"] == "greta@example.com, g.lang@example.org"
    assert greta["Tags"] == "'-minus, Alpha, vip"  # by name; a formula start neutralised
    assert greta["Last contact"] == "2026-07-01 23:30"  # summer time: UTC+2, to the minute
    assert greta["Birthday"] == "1990-01-31"
    assert greta["Agrees to receive offers"] == "yes"
    assert greta["Motto"] == "'=SUM(A1)"
    assert (greta["Budget"], greta["Newsletter"]) == ("12.5", "no")
    assert greta["Interests"] == "sails, =cmd"  # joined in their order; not first: harmless


def test_a_winter_moment_and_another_zone(admin, berliner):
    winter = datetime.datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
    Person.objects.filter(pk=berliner.pk).update(last_contact_at=winter)
    assert exported(admin, "csv", "Europe/Berlin")["Last contact"] == "2026-01-15 11:00"
    assert exported(admin, "csv", "America/New_York")["Last contact"] == "2026-01-15 05:00"


def test_every_field_in_excel_as_text_and_numbers(admin, berliner):
    greta = exported(admin, "xlsx", "Europe/Berlin")
    assert greta["Motto"] == "=SUM(A1)"  # a text cell: never run, so no apostrophe
    assert greta["Tags"] == "-minus, Alpha, vip"
    assert greta["All phones"] == "+4930123456, +79123456789"
    assert greta["Budget"] == "12.5"
    assert greta["Last contact"] == "2026-07-01 23:30"


def test_the_worker_writes_on_the_exporters_clock(admin, berliner, monkeypatch):
    monkeypatch.setattr(exports, "EXPORT_INLINE", 0)
    user_update(user=admin, actor=admin, time_zone="Asia/Yerevan")
    job = services.export_create(actor=admin, record_type="people", fmt="csv")
    assert job.status == "queued"
    services.export_run(job.pk)  # no request here: nobody's zone is active but the job's
    job.refresh_from_db()
    lines = read(job)
    assert dict(zip(lines[0], lines[1], strict=True))["Last contact"] == "2026-07-02 01:30"


@pytest.mark.django_db(transaction=True)
def test_a_big_list_comes_out_whole_and_in_order(monkeypatch, tmp_path):
    """Chunk after chunk (on PostgreSQL, outside a transaction, two threads read them
    ahead): none is lost or swapped."""
    from accord.accounts.services import user_create

    ada = user_create(email="ada@example.com", password="x" * 12, role="administrator")
    monkeypatch.setattr(exporting, "CHUNK", 3)
    monkeypatch.setattr(stored, "CHUNK", 3)
    for n in range(20):
        person_create(actor=ada, data={"first_name": f"P{n:02}", "city": "=Riga",
                                       "tags": [f"t{n % 3}"]})  # fmt: skip
    job = services.export_create(
        actor=ada, record_type="people", fmt="csv", columns=["city", "tags"], now=True
    )
    lines = read(job)
    assert lines[1:] == [[f"P{n:02}", "'=Riga", f"t{n % 3}"] for n in range(20)]
    assert job.rows_done == 20
