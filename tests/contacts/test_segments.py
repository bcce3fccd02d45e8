"""Segments: a saved filter, private or shared, that stays current."""

from django.test import Client

from accord.accounts.services import user_create
from accord.contacts.models import Segment
from accord.contacts.services import person_create
from tests.conftest import PASSWORD, log_in


def test_a_filter_saved_as_a_segment_lists_its_members_as_they_change(manager_client, owner):
    person_create(actor=owner, data={"first_name": "Anna", "city": "Haifa"})
    manager_client.post("/clients/people/segments/", {"name": "Haifa", "filters": "city=Haifa"})
    segment = Segment.objects.get()
    assert (segment.filters, segment.shared, segment.owner) == ({"city": "Haifa"}, False, owner)

    person_create(actor=owner, data={"first_name": "Boris", "city": "Haifa"})
    page = manager_client.get(f"/clients/people/?segment={segment.pk}").content.decode()
    assert "Anna" in page and "Boris" in page
    assert "Showing the segment" in page


def test_a_private_segment_is_not_seen_by_colleagues_but_a_shared_one_is(manager_client, owner):
    manager_client.post(
        "/clients/people/segments/", {"name": "Private Haifa", "filters": "city=Haifa"}
    )
    manager_client.post(
        "/clients/people/segments/", {"name": "Shared leads", "filters": "kind=lead", "shared": "1"}
    )
    colleague = user_create(email="col@example.com", password=PASSWORD, role="manager")
    client = Client()
    log_in(client, colleague.email)
    page = client.get("/clients/people/").content.decode()
    assert "Shared leads" in page and "Private Haifa" not in page
    mine = Segment.objects.get(name="Private Haifa")
    assert client.get(f"/clients/people/?segment={mine.pk}").status_code == 404
    ours = Segment.objects.get(name="Shared leads")
    client.post(f"/clients/people/segments/{ours.pk}/delete/")
    assert Segment.objects.filter(pk=ours.pk).exists()


def test_a_segment_needs_a_name_and_a_valid_filter(api):
    no_name = api.post_json(
        "/api/v1/segments", {"name": "", "record_type": "person", "filters": {"city": "Haifa"}}
    )
    assert no_name.status_code == 422
    bad = api.post_json(
        "/api/v1/segments", {"name": "X", "record_type": "person", "filters": {"colour": "red"}}
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "colour"
    assert not Segment.objects.exists()


def test_the_api_lists_by_segment(api, owner):
    person_create(actor=owner, data={"first_name": "Anna", "city": "Haifa"})
    person_create(actor=owner, data={"first_name": "Boris", "city": "Yerevan"})
    segment = api.post_json(
        "/api/v1/segments", {"name": "Haifa", "record_type": "person", "filters": {"city": "Haifa"}}
    ).json()
    found = api.get("/api/v1/people", {"segment": segment["id"]}).json()["items"]
    assert [p["first_name"] for p in found] == ["Anna"]
    assert api.get("/api/v1/people", {"segment": "999"}).status_code == 400


def test_clients_without_an_open_deal_can_be_listed_and_kept_as_a_segment(manager_client, owner):
    from accord.contacts.services import person_create
    from accord.sales.services import deal_create, deal_win

    worked = person_create(actor=owner, data={"first_name": "Worked", "city": "Haifa"})
    person_create(actor=owner, data={"first_name": "Idle", "city": "Haifa"})
    won = person_create(actor=owner, data={"first_name": "Won", "city": "Haifa"})
    deal_create(actor=owner, data={"title": "Open", "person": worked})
    deal_win(actor=owner, deal=deal_create(actor=owner, data={"title": "Done", "person": won}))
    page = manager_client.get("/clients/people/?open_deal=0").content.decode()
    assert "Idle" in page and "Won" in page and ">Worked<" not in page
    api = manager_client.get("/api/v1/people?open_deal=1").json()["items"]
    assert [p["first_name"] for p in api] == ["Worked"]
    assert manager_client.get("/api/v1/people?open_deal=maybe").status_code == 400
