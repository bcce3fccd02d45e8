"""The batch service (many clients at once, as an import writes them): the same records,
timeline, search entries and events as the single-record services, duplicates found on
every key, and nothing written for what is already there."""

from dataclasses import dataclass, field

import pytest
from django.core.exceptions import PermissionDenied

from accord.accounts.services import user_create
from accord.contacts.models import Company, Person
from accord.contacts.services import (
    ClientBatches,
    clients_batch_save,
    clients_batch_undo,
    person_create,
)
from accord.core.search import search_ids
from accord.core.timeline import timeline_of
from tests.conftest import PASSWORD


@dataclass
class Item:
    number: int
    values: dict
    phones: list = field(default_factory=list)
    typed_phones: list = field(default_factory=list)
    emails: list = field(default_factory=list)
    tags: list = field(default_factory=list)
    custom: dict = field(default_factory=dict)
    note: str = ""
    name: str = ""
    search: list = field(default_factory=list)


def person(number, first, last="", **extra) -> Item:
    item = Item(number, {"first_name": first, **({"last_name": last} if last else {})}, **extra)
    item.name = f"{first} {last}".strip()
    item.search = [item.name, *item.emails, *item.phones]
    return item


def test_a_batch_makes_the_records_a_form_would(admin):
    batches = ClientBatches(actor=admin, kind="person", on_duplicate="update",
                            origin={"import_id": 7})  # fmt: skip
    items = [
        person(1, "Anna", "Petrova", emails=["anna@example.com"], tags=["vip"],
               note="Met at the fair"),
        person(2, "Boris", phones=["+79160001122"]),
    ]  # fmt: skip
    items[0].values["company"] = "Okna"
    outcome = clients_batch_save(batches=batches, items=items)
    assert outcome.counts == {"created": 2, "updated": 0, "skipped": 0}
    anna = Person.objects.get(first_name="Anna")
    assert (anna.full_name, anna.owner, anna.primary_email, anna.company.name) == (
        "Anna Petrova", admin, "anna@example.com", "Okna",
    )  # fmt: skip
    assert [t.name for t in anna.tags.all()] == ["vip"]
    assert sorted(timeline_of(anna).values_list("kind", flat=True)) == ["created", "note"]
    assert timeline_of(anna).get(kind="created").data == {"import_id": 7}
    assert search_ids("person", "Petrova") == [anna.pk]
    assert search_ids("company", "Okna") == [Company.objects.get().pk]


def test_items_sharing_any_key_are_one_record_and_a_record_matched_is_filled_in(admin):
    existing = person_create(actor=admin, data={"first_name": "Vera", "emails": ["v@example.com"]})
    batches = ClientBatches(actor=admin, kind="person", on_duplicate="update")
    items = [
        person(1, "Anna", emails=["a@example.com"]),
        person(2, "Anna", phones=["+79151234567"], emails=["a@example.com"]),
        person(3, "Anna", phones=["+79151234567"], tags=["vip"]),  # through the phone
        person(4, "Vera", phones=["+79160001122"], emails=["v@example.com"]),
        person(5, "Vera", phones=["+79160001122"]),
    ]
    outcome = clients_batch_save(batches=batches, items=items)
    assert outcome.counts == {"created": 1, "updated": 4, "skipped": 0}
    anna = Person.objects.get(first_name="Anna")
    assert [p.value for p in anna.contact_points.all()] == ["+79151234567", "a@example.com"]
    assert [t.name for t in anna.tags.all()] == ["vip"]
    vera = Person.objects.get(pk=existing.pk)
    assert (vera.version, vera.primary_phone) == (existing.version + 1, "+79160001122")
    assert timeline_of(vera).filter(kind="changed").count() == 1  # one change for two items
    again = clients_batch_save(batches=batches, items=items)
    assert again.counts == {"created": 0, "updated": 0, "skipped": 5}
    assert Person.objects.get(pk=existing.pk).version == vera.version


def test_a_record_the_actor_may_not_change_is_refused_and_the_rest_written(admin, owner):
    other = user_create(email="own@example.com", password=PASSWORD, role="manager")
    person_create(actor=other, data={"first_name": "Theirs", "emails": ["t@example.com"]})
    batches = ClientBatches(actor=owner, kind="person", on_duplicate="update")
    outcome = clients_batch_save(
        batches=batches,
        items=[person(1, "Mine", emails=["t@example.com"]), person(2, "New", emails=["n@x.io"])],
    )
    assert list(outcome.refused) == [1] and "not yours to change" in outcome.refused[1]
    assert outcome.counts["created"] == 1
    assert Person.objects.filter(first_name="Theirs").exists()
    assert not Person.objects.filter(first_name="Mine").exists()


def test_undo_removes_the_created_and_restores_the_updated(admin):
    anna = person_create(actor=admin, data={"first_name": "Anna", "emails": ["a@x.io"]})
    batches = ClientBatches(actor=admin, kind="person", on_duplicate="update")
    outcome = clients_batch_save(
        batches=batches,
        items=[person(1, "Anna", emails=["a@x.io"], phones=["+79151234567"]),
               person(2, "Boris", emails=["b@x.io"])],
    )  # fmt: skip
    result = clients_batch_undo(actor=admin, kind="person", changes=outcome.changes[::-1])
    assert result == {"removed": 1, "restored": 1, "kept": 0}
    assert list(Person.objects.values_list("pk", flat=True)) == [anna.pk]
    assert [p.value for p in Person.objects.get().contact_points.all()] == ["a@x.io"]


def test_a_role_that_may_not_change_clients_writes_no_batch(db):
    reader = user_create(email="r@example.com", password=PASSWORD, role="read-only")
    with pytest.raises(PermissionDenied):
        clients_batch_save(
            batches=ClientBatches(actor=reader, kind="person"), items=[person(1, "Anna")]
        )
