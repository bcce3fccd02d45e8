"""A client's card shows its deals: open ones first with stage, amount, owner and next
step, then won and lost; a company's card also its people's; New deal starts with the
client filled in."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accord.accounts.services import user_create
from accord.contacts.services import company_create, person_create
from accord.sales.models import Deal
from accord.sales.services import deal_create, deal_lose, deal_win
from accord.work.services import task_create
from tests.conftest import PASSWORD


@pytest.fixture
def client_with_deals(owner, pipeline, too_expensive):
    okna = company_create(actor=owner, data={"name": "Okna Plus"})
    ivan = person_create(actor=owner, data={"first_name": "Ivan", "company": okna})
    kitchen = deal_create(actor=owner, data={"title": "Kitchen windows", "person": ivan,
                                             "amount": "1850.00"})  # fmt: skip
    task_create(actor=owner, data={"title": "Measure the kitchen", "deal": kitchen,
                                   "due_at": timezone.now() + timedelta(days=1)})  # fmt: skip
    deal_create(actor=owner, data={"title": "Office glazing", "company": okna})
    deal_win(actor=owner, deal=deal_create(actor=owner, data={"title": "Balcony",
                                                              "person": ivan}))  # fmt: skip
    deal_lose(actor=owner, deal=deal_create(actor=owner, data={"title": "Dacha",
                                                               "person": ivan}),
              reason=too_expensive)  # fmt: skip
    rival = user_create(email="rival@example.com", password=PASSWORD, role="manager")
    deal_create(actor=rival, data={"title": "Rival's secret", "person": ivan})
    return okna, ivan


def test_a_persons_card_lists_open_deals_first_then_won_and_lost(manager_client, client_with_deals):
    _okna, ivan = client_with_deals
    card = manager_client.get(f"/clients/people/{ivan.pk}/").content.decode()
    assert f"/deals/of-client/?person={ivan.pk}" in card
    panel = manager_client.get("/deals/of-client/", {"person": ivan.pk}).content.decode()
    order = [panel.index(title) for title in ("Kitchen windows", "Balcony", "Dacha")]
    assert order == sorted(order)
    assert "Measure the kitchen" in panel and "1,850.00" in panel and "Too expensive" in panel
    assert "Office glazing" not in panel  # the company's, not his
    assert "Rival" not in panel  # not visible to this manager


def test_a_companys_card_lists_its_deals_and_its_peoples(manager_client, client_with_deals):
    okna, _ivan = client_with_deals
    panel = manager_client.get("/deals/of-client/", {"company": okna.pk}).content.decode()
    assert "Office glazing" in panel and "Kitchen windows" in panel
    assert "No next step planned" in panel  # the office deal has no task
    listed = manager_client.get("/deals/list/", {"company": okna.pk}).content.decode()
    assert "Office glazing" in listed and "Balcony" in listed and "Okna Plus" in listed


def test_new_deal_from_the_card_starts_with_the_client(manager_client, client_with_deals):
    okna, ivan = client_with_deals
    panel = manager_client.get("/deals/of-client/", {"person": ivan.pk})
    new_url = panel.context["new_url"]
    form = manager_client.get(new_url).context["form"]
    assert str(form["person"].value()) == str(ivan.pk)
    assert str(form["company"].value()) == str(okna.pk)


def test_a_client_that_is_not_there_has_no_deals_card(manager_client, client_with_deals):
    assert manager_client.get("/deals/of-client/", {"person": 999999}).status_code == 404
    assert manager_client.get("/deals/of-client/", {"person": "x"}).status_code == 404
    assert manager_client.get("/deals/of-client/").status_code == 404


def test_the_deal_list_hands_ticked_deals_to_a_new_owner(admin_client, admin, owner, pipeline):
    kept = deal_create(actor=owner, data={"title": "Kept"})
    moved = [deal_create(actor=owner, data={"title": f"Moved {n}"}) for n in range(2)]
    colleague = user_create(email="kim@example.com", password=PASSWORD, role="manager")
    page = admin_client.get("/deals/list/").content.decode()
    assert 'name="ids"' in page and 'action="/deals/bulk/"' in page
    done = admin_client.post(
        "/deals/bulk/",
        {"ids": [d.pk for d in moved], "owner": colleague.pk, "query": "status=open"},
    )
    assert done["Location"] == "/deals/list/?status=open"
    owners = dict(Deal.objects.values_list("title", "owner"))
    assert owners == {"Kept": owner.pk, "Moved 0": colleague.pk, "Moved 1": colleague.pk}
    refused = admin_client.post("/deals/bulk/", {"ids": [kept.pk]}, follow=True)
    assert "Choose the new owner." in refused.content.decode()
    assert Deal.objects.get(title="Kept").owner == owner
