"""People and companies through the API: the documented shape, filters, ETag, idempotency."""

import pytest

from accord.contacts.models import Person
from accord.contacts.services import company_create, person_create

IVAN = {
    "first_name": "Иван", "last_name": "Петров",
    "phones": [{"number": "+7 (912) 345-67-89", "label": "mobile"}],
    "emails": [{"address": "Ivan@Example.com"}], "tags": ["vip"],
    "consent": {"marketing": True, "source": "web form"},
}  # fmt: skip


def test_a_person_is_created_and_read_in_the_documented_shape(api, owner):
    response = api.post_json("/api/v1/people", IVAN)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["phones"] == [{"number": "+79123456789", "label": "mobile"}]
    assert body["emails"] == [{"address": "ivan@example.com", "label": ""}]
    assert (body["kind"], body["owner"], body["version"], body["tags"]) == (
        "lead",
        str(owner.pk),
        1,
        ["vip"],
    )
    assert body["consent"]["marketing"] is True
    assert body["consent"]["given_at"] is not None
    assert response["Location"] == f"/api/v1/people/{body['id']}"
    again = api.get(response["Location"])
    assert again.json() == body
    assert again["ETag"] == response["ETag"]


def test_a_phone_without_a_country_code_is_refused_unless_a_region_is_set(api, settings):
    settings.ACCORD_PHONE_REGION = ""
    data = {"first_name": "Olga", "phones": [{"number": "8 (912) 345-67-89"}]}
    refused = api.post_json("/api/v1/people", data)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "phones"
    assert "country code" in refused.json()["errors"][0]["message"]
    assert not Person.objects.exists()

    settings.ACCORD_PHONE_REGION = "RU"
    created = api.post_json("/api/v1/people", data)
    assert created.json()["phones"][0]["number"] == "+79123456789"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"emails": [{"address": "not-an-email"}]}, "emails"),
        ({"birthday": "31.12.1990"}, "birthday"),
        ({"kind": "boss"}, "kind"),
        ({"custom_fields": {"shoe_size": 42}}, "custom_fields.shoe_size"),
        ({"first_name": "", "last_name": ""}, "first_name"),
        ({"owner": "999999"}, "owner"),
    ],
)
def test_bad_values_are_named_and_nothing_is_half_saved(api, change, field):
    created = api.post_json("/api/v1/people", IVAN).json()
    response = api.patch(f"/api/v1/people/{created['id']}", change, content_type="application/json")
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]
    person = Person.objects.get(pk=created["id"])
    assert (person.first_name, person.version, person.primary_email) == (
        "Иван",
        1,
        "ivan@example.com",
    )


def test_a_stale_write_is_refused_with_412_and_the_current_etag(api):
    created = api.post_json("/api/v1/people", IVAN)
    url, etag = created["Location"], created["ETag"]
    first = api.patch(url, {"city": "Yerevan"}, content_type="application/json",
                      headers={"If-Match": etag})  # fmt: skip
    assert first.status_code == 200
    assert first["ETag"] != etag
    stale = api.patch(url, {"city": "Haifa"}, content_type="application/json",
                      headers={"If-Match": etag})  # fmt: skip
    assert stale.status_code == 412
    assert stale["ETag"] == first["ETag"]
    assert api.get(url).json()["city"] == "Yerevan"


def test_a_retried_post_with_the_same_idempotency_key_creates_one_person(api):
    headers = {"Idempotency-Key": "create-ivan-1"}
    first = api.post("/api/v1/people", IVAN, content_type="application/json", headers=headers)
    second = api.post("/api/v1/people", IVAN, content_type="application/json", headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Person.objects.count() == 1
    other = api.post("/api/v1/people", {**IVAN, "first_name": "Пётр"},
                     content_type="application/json", headers=headers)  # fmt: skip
    assert other.status_code == 422
    assert Person.objects.count() == 1


def test_lists_filter_sort_and_page(api, owner):
    for name, city in [("Anna", "Haifa"), ("Boris", "Yerevan"), ("Carmen", "Haifa")]:
        person_create(actor=owner, data={"first_name": name, "city": city})
    page = api.get("/api/v1/people?city=haifa&sort=-full_name&limit=1").json()
    assert [p["first_name"] for p in page["items"]] == ["Carmen"]
    rest = api.get(
        f"/api/v1/people?city=haifa&sort=-full_name&limit=1&cursor={page['next_cursor']}"
    )
    assert [p["first_name"] for p in rest.json()["items"]] == ["Anna"]

    unknown = api.get("/api/v1/people?colour=red")
    assert unknown.status_code == 400
    assert unknown.json()["errors"] == [
        {"field": "colour", "message": "There is no filter colour."}
    ]
    bad_sort = api.get("/api/v1/people?sort=birthday")
    assert bad_sort.status_code == 400


def test_search_finds_a_person_by_a_phone_typed_another_way(api, owner, settings):
    settings.ACCORD_PHONE_REGION = "RU"
    person_create(actor=owner, data={"first_name": "Ivan", "phones": [{"number": "+79123456789"}]})
    person_create(actor=owner, data={"first_name": "Other", "phones": [{"number": "+79990001122"}]})
    for typed in ["8 (912) 345-67-89", "+7 912 345 67 89", "9123456789", "912345"]:
        found = api.get("/api/v1/people", {"q": typed}).json()["items"]
        assert [p["first_name"] for p in found] == ["Ivan"], typed


def test_notes_land_on_the_timeline_newest_first(api):
    created = api.post_json("/api/v1/people", IVAN).json()
    url = f"/api/v1/people/{created['id']}"
    api.patch(url, {"city": "Moscow"}, content_type="application/json")
    note = api.post_json(
        f"{url}/notes", {"text": "<script>alert(1)</script> Called, wants a quote ✨"}
    )
    assert note.status_code == 201
    events = api.get(f"{url}/timeline").json()["items"]
    assert [e["kind"] for e in events] == ["note", "changed", "created"]
    assert events[0]["data"]["text"] == "<script>alert(1)</script> Called, wants a quote ✨"
    assert events[1]["data"]["changes"] == [{"field": "city", "old": "", "new": "Moscow"}]
    notes_only = api.get(f"{url}/timeline?kind=note").json()["items"]
    assert len(notes_only) == 1


def test_companies_have_their_own_kind_and_people_link_to_them(api, owner):
    company = api.post_json("/api/v1/companies", {"name": "Okna LLC", "kind": "supplier"}).json()
    assert company["kind"] == "supplier"
    person = api.post_json("/api/v1/people", {"first_name": "Lev", "company": company["id"]}).json()
    assert person["company"] == company["id"]
    bad = api.post_json("/api/v1/companies", {"name": "X", "kind": "friend"})
    assert bad.status_code == 422


def test_a_manager_cannot_delete_clients_without_the_delete_capability(api, owner):
    person = person_create(actor=owner, data={"first_name": "Keep"})
    assert api.delete(f"/api/v1/people/{person.pk}").status_code == 403
    assert Person.objects.filter(pk=person.pk).exists()


def test_list_queries_stay_few_whatever_the_page_size(api, owner, django_assert_max_num_queries):
    company = company_create(actor=owner, data={"name": "Acme"})
    for n in range(30):
        data = {"first_name": f"P{n}", "company": company, "tags": ["a", "b"],
                "phones": [{"number": f"+3725{n:06}"}]}  # fmt: skip
        person_create(actor=owner, data=data)
    with django_assert_max_num_queries(6):
        response = api.get("/api/v1/people?limit=30")
    assert len(response.json()["items"]) == 30


@pytest.mark.parametrize(
    "query",
    [
        {"no_contact_days": "9999999"},
        {"owner": "99999999999999999999999"},
        {"cursor": "eyJzIjoiZnVsbF9uYW1lIiwidiI6WyJ4IiwieSJdfQ"},
    ],
)
def test_out_of_range_or_tampered_list_input_is_a_400_not_a_crash(api, query):
    response = api.get("/api/v1/people", query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_an_e_mail_longer_than_the_standard_allows_is_refused(api):
    response = api.post_json(
        "/api/v1/people",
        {
            "first_name": "Long",
            "emails": [{"address": "a" * 64 + "@" + ("b" * 60 + ".") * 4 + "com"}],
        },
    )
    assert response.status_code == 422


def test_a_company_website_must_be_a_web_address(api):
    bad = api.post_json("/api/v1/companies", {"name": "Evil", "website": "javascript:alert(1)"})
    assert bad.status_code == 422
    good = api.post_json("/api/v1/companies", {"name": "Fine", "website": "okna.example"})
    assert good.json()["website"] == "https://okna.example"


def test_a_manager_cannot_leave_a_client_without_an_owner(api):
    response = api.post_json("/api/v1/people", {"first_name": "Nobody's", "owner": None})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "owner"


def test_a_read_only_user_cannot_add_notes(owner, db):
    from accord.accounts.services import token_create, user_create
    from tests.conftest import PASSWORD, ApiClient

    viewer = user_create(email="ro@example.com", password=PASSWORD, role="read-only")
    person = person_create(actor=owner, data={"first_name": "Quiet"})
    api = ApiClient(token_create(user=viewer, name="ro")[1])
    assert api.post_json(f"/api/v1/people/{person.pk}/notes", {"text": "hi"}).status_code == 403


def test_a_replay_waits_for_the_first_request_and_a_revoked_token_gets_nothing(api, owner):
    from accord.accounts.models import ApiToken
    from accord.api.models import IdempotentAnswer

    headers = {"Idempotency-Key": "k-1"}
    first = api.post("/api/v1/people", IVAN, content_type="application/json", headers=headers)
    assert first.status_code == 201
    # A request still running holds its key: a racing retry is told to wait.
    IdempotentAnswer.objects.filter(key="k-1").update(status=0)
    racing = api.post("/api/v1/people", IVAN, content_type="application/json", headers=headers)
    assert racing.status_code == 409
    assert Person.objects.count() == 1
    ApiToken.objects.filter(user=owner).update(revoked_at="2026-01-01T00:00:00Z")
    revoked = api.post("/api/v1/people", IVAN, content_type="application/json", headers=headers)
    assert revoked.status_code == 401


def test_erasing_a_person_drops_the_kept_answers_that_hold_their_data(
    api, owner, admin, django_capture_on_commit_callbacks
):
    from accord.api.models import IdempotentAnswer
    from accord.contacts.services import person_erase

    created = api.post(
        "/api/v1/people", IVAN, content_type="application/json", headers={"Idempotency-Key": "k-2"}
    )
    assert IdempotentAnswer.objects.filter(key="k-2").exists()
    with django_capture_on_commit_callbacks(execute=True):
        person_erase(actor=admin, person=Person.objects.get(pk=created.json()["id"]))
    assert not IdempotentAnswer.objects.filter(key="k-2").exists()


def test_search_finds_a_person_by_their_e_mail_or_part_of_it(api, owner):
    person_create(
        actor=owner,
        data={"first_name": "Grigory", "emails": [{"address": "grigory.komarov@systems75896.ru"}]},
    )
    for typed in ["grigory.komarov@systems75896.ru", "komarov", "systems75896"]:
        found = api.get("/api/v1/people", {"q": typed}).json()["items"]
        assert [p["first_name"] for p in found] == ["Grigory"], typed


def test_every_list_column_sorts_and_pages_in_order(api, owner):
    from accord.contacts.services import person_create

    for number, city in enumerate(["Yerevan", "Haifa", "Moscow", "Berlin", "Haifa"]):
        person_create(
            actor=owner,
            data={
                "first_name": f"P{number}",
                "city": city,
                "emails": [{"address": f"p{number}@example.com"}],
            },
        )
    seen, url = [], "/api/v1/people?sort=-city&limit=2"
    while url:
        page = api.get(url).json()
        seen += [(p["city"], p["first_name"]) for p in page["items"]]
        url = (
            f"/api/v1/people?sort=-city&limit=2&cursor={page['next_cursor']}"
            if page["next_cursor"]
            else ""
        )
    assert [city for city, _name in seen] == ["Yerevan", "Moscow", "Haifa", "Haifa", "Berlin"]
    emails = [
        p["emails"][0]["address"]
        for p in api.get("/api/v1/people?sort=primary_email").json()["items"]
    ]
    assert emails == sorted(emails)
    assert api.get("/api/v1/people?sort=owner").status_code == 400


def test_a_phone_label_is_a_choice_and_another_word_is_refused(api):
    made = api.post_json("/api/v1/people", {
        "first_name": "Olga", "phones": [{"number": "+79123456789", "label": "Mobile"}],
        "emails": [{"address": "olga@example.com", "label": "personal"}],
    })  # fmt: skip
    assert made.status_code == 201
    assert made.json()["phones"][0]["label"] == "mobile"
    refused = api.post_json("/api/v1/people", {
        "first_name": "Oleg", "phones": [{"number": "+79123456780", "label": "reception"}],
    })  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "phones"
    assert "mobile, work, home, other" in refused.json()["errors"][0]["message"]
    assert Person.objects.count() == 1


def test_the_card_shows_the_label_in_the_readers_language(manager_client, owner):
    olga = person_create(actor=owner, data={
        "first_name": "Olga", "phones": [{"number": "+79123456789", "label": "work"}]})  # fmt: skip
    manager_client.post("/i18n/setlang/", {"language": "ru"})
    card = manager_client.get(f"/clients/people/{olga.pk}/").content.decode()
    assert "Телефон · рабочий" in card
