"""Ids taken for rows before they are written (an import's batch, a batch of messages):
nothing else written meanwhile in the transaction may get one of them."""

from django.db import transaction

from accord.contacts.models import Tag
from accord.core.bulk import take_ids


def test_ids_taken_are_not_given_to_a_row_saved_meanwhile(db):
    Tag.objects.create(name="first")
    with transaction.atomic():
        taken = take_ids(Tag, 3)
        meanwhile = Tag.objects.create(name="meanwhile")
        Tag.objects.bulk_create([Tag(pk=pk, name=f"taken {pk}") for pk in taken])
    assert meanwhile.pk not in taken
    assert Tag.objects.count() == 5
    with transaction.atomic():
        again = take_ids(Tag, 2)
    assert not set(again) & (set(taken) | {meanwhile.pk})


def test_ids_are_taken_in_an_empty_table(db):
    with transaction.atomic():
        taken = take_ids(Tag, 2)
        made = Tag.objects.create(name="made")
    assert made.pk not in taken and len(set(taken)) == 2
