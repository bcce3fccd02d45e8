from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accord.core.timeline import field_changes, timeline_gathered, timeline_of, timeline_record


def test_field_changes_lists_only_what_changed_in_plain_values():
    before = {"name": "Anna", "amount": Decimal("10.50"), "birthday": date(1990, 1, 2)}
    after = {"name": "Anna", "amount": Decimal("12.00"), "birthday": None}
    assert field_changes(before, after, ["name", "amount", "birthday"]) == [
        {"field": "amount", "old": "10.50", "new": "12.00"},
        {"field": "birthday", "old": "1990-01-02", "new": None},
    ]


def test_a_records_timeline_is_newest_first_with_who_and_what(owner, admin):
    now = timezone.now()
    timeline_record(subject=owner, kind="note", actor=admin, data={"text": "first"},
                    occurred_at=now - timedelta(hours=2))  # fmt: skip
    timeline_record(subject=owner, kind="field_changed", actor=owner,
                    data={"changes": [{"field": "full_name", "old": "O", "new": "Olivia"}]},
                    occurred_at=now)  # fmt: skip
    timeline_record(subject=admin, kind="note", actor=owner, data={"text": "about someone else"})

    events = list(timeline_of(owner))
    assert [(e.kind, e.actor.email) for e in events] == [
        ("field_changed", "olivia@example.com"),
        ("note", "ada@example.com"),
    ]
    assert events[0].data["changes"][0]["new"] == "Olivia"
    assert [e.kind for e in timeline_of(owner, kinds=["note"])] == ["note"]


def test_gathered_entries_are_written_when_the_block_ends_and_none_when_it_fails(owner):
    """A worker's batch gathers its timeline entries: written together at its end, in the
    order recorded; a batch that fails leaves none behind."""
    with timeline_gathered():
        timeline_record(subject=owner, kind="note", data={"text": "one"})
        timeline_record(subject=owner, kind="note", data={"text": "two"})
        assert not list(timeline_of(owner))
    assert [e.data["text"] for e in timeline_of(owner)] == ["two", "one"]

    with pytest.raises(RuntimeError), timeline_gathered():
        timeline_record(subject=owner, kind="note", data={"text": "lost"})
        raise RuntimeError("the batch broke")
    assert [e.data["text"] for e in timeline_of(owner)] == ["two", "one"]
