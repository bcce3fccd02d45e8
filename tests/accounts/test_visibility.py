"""The visibility kernel: every shipped role, whose record it is, reading or changing.

The rows are timeline entries scoped by their actor, standing in for any owned record:
the kernel only knows an owner field and the owner's team.
"""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from accord.accounts.services import team_save, user_create
from accord.core.models import TimelineEvent
from accord.core.visibility import scope
from tests.conftest import PASSWORD

# role -> the deals it may (read, write) of: (its own, a teammate's, another team's)
EXPECTED = {
    "administrator": {"read": (1, 1, 1), "write": (1, 1, 1)},
    "head-of-sales": {"read": (1, 1, 1), "write": (1, 1, 0)},
    "manager": {"read": (1, 1, 0), "write": (1, 0, 0)},
    "marketing": {"read": (1, 1, 1), "write": (0, 0, 0)},
    "support": {"read": (1, 1, 1), "write": (0, 0, 0)},
    "read-only": {"read": (1, 1, 1), "write": (0, 0, 0)},
}


@pytest.fixture
def world(db):
    boss = user_create(email="boss@example.com", password=PASSWORD, role="administrator")
    teammate = user_create(email="mate@example.com", password=PASSWORD, role="manager")
    outsider = user_create(email="out@example.com", password=PASSWORD, role="manager")
    sales = team_save(actor=boss, name="Sales", head=None, members=[teammate])
    team_save(actor=boss, name="Support", head=None, members=[outsider])
    return {"teammate": teammate, "outsider": outsider, "sales": sales, "boss": boss}


def owned_rows(*owners):
    subject_type = ContentType.objects.get_for_model(owners[0])
    return [
        TimelineEvent.objects.create(subject_type=subject_type, subject_id=owner.pk, kind="deal",
                                     actor=owner, occurred_at=timezone.now())
        for owner in owners
    ]  # fmt: skip


@pytest.mark.parametrize("role", sorted(EXPECTED))
@pytest.mark.parametrize("action", ["read", "write"])
def test_each_role_sees_and_changes_what_its_levels_say(world, role, action):
    me = user_create(email=f"{role}@example.com", password=PASSWORD, role=role)
    team_save(actor=world["boss"], team=world["sales"], name="Sales", head=None,
              members=[me, world["teammate"]])  # fmt: skip
    me.refresh_from_db()
    rows = owned_rows(me, world["teammate"], world["outsider"])

    allowed = scope(TimelineEvent.objects.all(), user=me, record_type="deals", action=action,
                    owner_field="actor")  # fmt: skip
    got = tuple(int(allowed.filter(pk=row.pk).exists()) for row in rows)
    assert got == EXPECTED[role][action]


def test_the_head_of_a_team_sees_the_whole_team_even_with_own_level(world):
    head = user_create(email="lead@example.com", password=PASSWORD, role="manager")
    team_save(actor=world["boss"], team=world["sales"], name="Sales", head=head,
              members=[world["teammate"]])  # fmt: skip
    head = type(head).objects.get(pk=head.pk)
    rows = owned_rows(head, world["teammate"], world["outsider"])
    writable = scope(TimelineEvent.objects.all(), user=head, record_type="deals", action="write",
                     owner_field="actor")  # fmt: skip
    assert set(writable) == {rows[0], rows[1]}


def test_a_deactivated_user_sees_nothing(world):
    world["boss"].is_active = False
    rows = owned_rows(world["boss"])
    visible = scope(TimelineEvent.objects.all(), user=world["boss"], record_type="deals",
                    owner_field="actor")  # fmt: skip
    assert rows and not visible.exists()
