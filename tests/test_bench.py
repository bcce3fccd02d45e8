"""The benchmark's generator writes rows the way the services would: a drift here makes
the bench measure a database Accord never has."""

from django.db import connection

from accord.contacts.services import person_create
from accord.core.models import SearchEntry
from accord.core.search import KIND_CODES, ROWID_STRIDE
from bench.records import search_body


def indexed_body(kind: str, record_id: int) -> str:
    if connection.vendor != "sqlite":
        return SearchEntry.objects.get(kind=kind, record_id=record_id).body
    with connection.cursor() as cursor:
        rowid = record_id * ROWID_STRIDE + KIND_CODES[kind]
        cursor.execute("SELECT body FROM search_fts WHERE rowid = %s", [rowid])
        return cursor.fetchone()[0]


def test_the_bench_indexes_a_person_as_the_services_do(owner, settings):
    settings.ACCORD_PHONE_REGION = "RU"
    person = person_create(actor=owner, data={
        "first_name": "Grigory", "last_name": "Komarov", "city": "Moscow", "tags": ["vip"],
        "phones": [{"number": "+79995999837"}, {"number": "+79034666627"}],
        "emails": [{"address": "grigory.komarov@systems75896.ru"}],
    })  # fmt: skip
    points = [
        {"kind": "phone", "value": "+79995999837", "position": 0},
        {"kind": "email", "value": "grigory.komarov@systems75896.ru", "position": 0},
        {"kind": "phone", "value": "+79034666627", "position": 1},
    ]
    expected = search_body("Grigory Komarov", points, ["vip"], ["Moscow"])
    assert indexed_body("person", person.pk) == expected
