"""A task that asks for its deal's fields, on the screens: the task's page asks for them
with the deal's values, keeps what was typed on an error, and fills the deal; Today's
Done leads to that form; a task made by hand can ask for them."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from accord.core.timeline import timeline_of
from accord.sales.models import Deal
from accord.sales.services import deal_update
from accord.work.models import Task
from accord.work.services import task_create
from tests.conftest import log_in
from tests.work.conftest import SIZES, measurement


def test_the_task_page_asks_for_the_fields_and_keeps_the_input_on_an_error(
    admin, owner, measurer, window_deal
):
    deal_update(actor=owner, deal=window_deal,
                data={"custom_fields": {"number_of_windows": 2}})  # fmt: skip
    task = measurement(admin, window_deal, measurer)
    client = Client()
    assert log_in(client, measurer.email)
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "For the deal <bdi>3 windows</bdi>" in page
    assert 'name="cf_number_of_windows" value="2"' in page  # the deal's value now
    assert 'name="cf_window_sizes"' in page and "required" in page

    answer = client.post(
        f"/tasks/{task.pk}/complete/",
        {"result": "Balcony too", "cf_number_of_windows": "three", "cf_window_sizes": "1200×1400"},
    )
    page = answer.content.decode()
    assert answer.status_code == 200
    assert 'value="1200×1400"' in page and "Balcony too" in page  # kept
    assert '<p class="field-error">Enter a number.</p>' in page
    assert Task.objects.get().status == "open"

    answer = client.post(
        f"/tasks/{task.pk}/complete/",
        {"result": "Balcony too", "cf_number_of_windows": "3", "cf_window_sizes": "1200×1400"},
    )
    assert answer.status_code == 302
    deal = Deal.objects.get()
    assert deal.custom_fields == {"number_of_windows": 3, "window_sizes": "1200×1400"}
    assert timeline_of(deal).filter(kind="changed", actor=measurer).exists()
    deal_page = Client()
    assert log_in(deal_page, owner.email)
    shown = deal_page.get(f"/deals/{deal.pk}/").content.decode()
    assert "Mark Measurer" in shown and "Window sizes" in shown and "1200×1400" in shown


def test_an_empty_asked_field_is_refused_under_it(admin, measurer, window_deal):
    task = measurement(admin, window_deal, measurer, asks=[SIZES])
    client = Client()
    assert log_in(client, measurer.email)
    page = client.post(f"/tasks/{task.pk}/complete/", {"result": "Done"}).content.decode()
    assert '<p class="field-error">This field is required.</p>' in page
    assert Task.objects.get().status == "open"


def test_todays_done_button_leads_to_the_form_of_a_task_that_asks(admin, measurer, window_deal):
    asking = measurement(admin, window_deal, measurer)
    soon = timezone.now() + timedelta(hours=1)
    plain = task_create(
        actor=admin, data={"title": "Call the office", "assignee": measurer, "due_at": soon}
    )
    client = Client()
    assert log_in(client, measurer.email)
    page = client.get("/").content.decode()
    assert f'href="/tasks/{asking.pk}/#complete"' in page
    assert f'action="/tasks/{asking.pk}/complete/"' not in page
    assert f'action="/tasks/{plain.pk}/complete/"' in page
    # A Done sent anyway (a page from before) completes nothing and shows the form.
    answer = client.post(f"/tasks/{asking.pk}/complete/", {"next": "/"})
    assert answer.status_code == 200 and "field-error" in answer.content.decode()


def test_a_task_made_by_hand_can_ask_for_the_deals_fields(owner, window_deal):
    client = Client()
    assert log_in(client, owner.email)
    form = client.get(f"/tasks/new/?deal={window_deal.pk}").content.decode()
    assert "Ask for the deal's fields when it is completed" in form
    assert f'value="{SIZES}"' in form and "Window sizes" in form
    day = (timezone.localdate() + timedelta(days=1)).isoformat()
    answer = client.post(
        "/tasks/new/",
        {"title": "Measure again", "kind": "visit", "due_date": day, "assignee": owner.pk,
         "priority": 1, "deal": window_deal.pk, "asks": ["amount", SIZES]},
    )  # fmt: skip
    assert answer.status_code == 302, answer.content.decode()
    task = Task.objects.get()
    assert task.asks == ["amount", SIZES]
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert 'name="amount"' in page and 'name="cf_window_sizes"' in page
