"""The tasks' fixtures: a pipeline, and a window shop's deal with its fields, the
measurer who fills them in and their measurement (tests/work/test_asks*.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accord.accounts.models import Role, User
from accord.accounts.services import role_save, team_save, user_create
from accord.contacts.services import person_create
from accord.core.services import custom_field_save
from accord.sales.models import Deal
from accord.sales.services import deal_create
from accord.work.models import Task
from accord.work.services import task_create
from tests.conftest import PASSWORD
from tests.sales.conftest import pipeline, stages  # noqa: F401 (fixtures shared with sales)


@pytest.fixture
def window_fields(admin):
    return {
        label: custom_field_save(
            actor=admin, record_type="deal", label=label, type=kind, choices=choices
        )
        for label, kind, choices in [
            ("Number of windows", "number", None),
            ("Window sizes", "text", None),
            ("Frame colour", "choice", ["white", "brown"]),
        ]
    }


@pytest.fixture
def measurer(admin, owner):
    """Like a manager (changes only their own deals), in the owner's team."""
    manager = Role.objects.get(slug="manager")
    role = role_save(actor=admin, name="Measurer", access=manager.access, capabilities=[],
                     takes_leads=False)  # fmt: skip
    mark = user_create(email="mark@example.com", password=PASSWORD, role=role.slug,
                       full_name="Mark Measurer")  # fmt: skip
    team_save(actor=admin, name="Window sales", head=admin, members=[owner, mark])
    return User.objects.get(pk=mark.pk)  # with its team


@pytest.fixture
def window_deal(owner, measurer, pipeline, window_fields):  # noqa: F811 (the fixture)
    anna = person_create(actor=owner, data={"first_name": "Anna"})
    made = deal_create(actor=owner, data={"title": "3 windows", "person": anna})
    return Deal.objects.select_related("owner").get(pk=made.pk)  # its owner in the team


SIZES, COUNT = "custom_fields.window_sizes", "custom_fields.number_of_windows"


def measurement(author, deal, assignee, asks=(COUNT, SIZES)) -> Task:
    """A visit due tomorrow that asks for the number of windows and their sizes."""
    return task_create(
        actor=author,
        data={"title": "Take measurements", "kind": "visit", "deal": deal, "assignee": assignee,
              "due_at": timezone.now() + timedelta(days=1), "asks": list(asks)},
    )  # fmt: skip
