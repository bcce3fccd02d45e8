"""The employee performance report: per person, within what the viewer's role reaches."""

import re
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from accord.contacts.services import person_create
from accord.sales.services import deal_create, deal_win
from accord.work.models import Activity
from accord.work.services import activity_log, task_complete, task_create
from tests.conftest import log_in


def test_the_report_counts_each_persons_work_and_time_to_first_call(
    admin_client, admin, owner, pipeline
):
    from accord.contacts.models import Person

    lead = person_create(actor=owner, data={"first_name": "Lead"})
    yesterday = timezone.now() - timedelta(days=1)  # the call, 3 hours later, is not tomorrow
    Person.objects.filter(pk=lead.pk).update(created_at=yesterday)
    call = activity_log(actor=owner, data={"kind": "call", "person": lead})
    Activity.objects.filter(pk=call.pk).update(occurred_at=yesterday + timedelta(hours=3))
    activity_log(actor=owner, data={"kind": "meeting", "person": lead})
    done = task_create(actor=owner, data={"title": "Call", "due_at": timezone.now() + timedelta(1)})
    task_complete(actor=owner, task=done)
    task_create(
        actor=owner,
        data={"title": "Late", "due_at": timezone.now() - timedelta(1)},
        allow_past=True,
    )
    deal_win(actor=owner, deal=deal_create(actor=owner, data={"title": "W", "amount": "1200"}))
    page = admin_client.get("/reports/people/").content.decode()
    row = page[page.index("Olivia Owner") :]
    row = row[: row.index("</tr>")]
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in row.split("</td>")[1:-1]]
    assert (cells[0], cells[1]) == ("1", "1")  # done, overdue
    assert (cells[2], cells[3]) == ("1", "1")  # a call, a meeting
    assert cells[4] == "3.0 h"
    assert cells[5] == "1" and "1,200" in cells[6]


def test_a_manager_sees_only_their_own_row(owner, admin):
    client = Client()
    assert log_in(client, owner.email)
    page = client.get("/reports/people/").content.decode()
    assert "Olivia Owner" in page and "Ada Admin" not in page
