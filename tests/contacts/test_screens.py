"""The client screens through the test client: list, card, create, edit, notes, bulk."""

from django.test import Client

from accord.contacts.models import Person
from accord.contacts.services import person_create
from accord.core.timeline import timeline_of


def test_a_short_form_creates_a_person_and_opens_their_card(manager_client, owner, settings):
    settings.ACCORD_PHONE_REGION = "RU"
    response = manager_client.post("/clients/people/new/", {
        "first_name": "Anna", "last_name": "Karenina",
        "phone_value": ["8 (912) 345-67-89", ""], "phone_label": ["mobile", ""],
        "email_value": ["anna@example.com"], "email_label": [""],
    })  # fmt: skip
    anna = Person.objects.get()
    assert response["Location"] == f"/clients/people/{anna.pk}/"
    assert (anna.full_name, anna.primary_phone, anna.owner) == (
        "Anna Karenina",
        "+79123456789",
        owner,
    )
    card = manager_client.get(response["Location"]).content.decode()
    assert "8 (912) 345-67-89" in card
    assert "added this client" in card


def test_a_likely_duplicate_is_shown_before_saving(manager_client, owner):
    person_create(
        actor=owner, data={"first_name": "Anna", "emails": [{"address": "anna@example.com"}]}
    )
    data = {"first_name": "Ann", "email_value": ["ANNA@example.com"], "email_label": [""]}
    response = manager_client.post("/clients/people/new/", data)
    assert response.status_code == 200
    assert "This looks like someone you already have" in response.content.decode()
    assert Person.objects.count() == 1
    manager_client.post("/clients/people/new/", {**data, "confirm_duplicate": "1"})
    assert Person.objects.count() == 2


def test_a_bad_phone_keeps_everything_typed_and_says_what_is_wrong(manager_client, settings):
    settings.ACCORD_PHONE_REGION = ""
    response = manager_client.post("/clients/people/new/", {
        "first_name": "Boris", "phone_value": ["912 345"], "phone_label": ["work"],
    })  # fmt: skip
    page = response.content.decode()
    assert "Add the country code" in page
    assert 'value="912 345"' in page
    assert 'value="Boris"' in page
    assert not Person.objects.exists()


def test_text_is_stored_as_typed_and_shown_escaped(manager_client, owner):
    typed = "<script>alert('x')</script> \u200fשלום 🙂 " + "x" * 9000
    person = person_create(actor=owner, data={"first_name": "Eve"})
    manager_client.post(f"/clients/people/{person.pk}/notes/", {"text": typed})
    assert timeline_of(person).first().data["text"] == typed.strip()
    page = manager_client.get(f"/clients/people/{person.pk}/").content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page


def test_a_note_added_with_htmx_comes_back_in_the_timeline(manager_client, owner):
    person = person_create(actor=owner, data={"first_name": "Eve"})
    response = manager_client.post(f"/clients/people/{person.pk}/notes/", {"text": "Wants a call"},
                                   headers={"HX-Request": "true"})  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="activity">')
    assert "Wants a call" in page


def test_an_edit_over_a_newer_save_shows_the_conflict_and_keeps_the_input(manager_client, owner):
    person = person_create(actor=owner, data={"first_name": "Eve"})
    form = {"first_name": "Eva", "last_name": "", "version": "1", "kind": "lead",
            "owner": owner.pk, "full": "1"}  # fmt: skip
    from accord.contacts.services import person_update

    person_update(actor=owner, person=person, data={"city": "Haifa"})  # someone else, first
    response = manager_client.post(f"/clients/people/{person.pk}/edit/", form)
    page = response.content.decode()
    assert "Someone else saved this client" in page
    assert 'value="Eva"' in page
    person.refresh_from_db()
    assert (person.first_name, person.city) == ("Eve", "Haifa")


def test_the_list_filters_and_bulk_assigns(manager_client, owner, admin):
    for name in ["Anna", "Boris"]:
        person_create(actor=owner, data={"first_name": name, "city": "Haifa"})
    person_create(actor=owner, data={"first_name": "Carmen", "city": "Yerevan"})
    page = manager_client.get("/clients/people/?city=haifa").content.decode()
    assert "Anna" in page and "Boris" in page and "Carmen" not in page

    admin_client = Client()
    admin_client.force_login(admin)
    ids = list(Person.objects.filter(city="Haifa").values_list("pk", flat=True))
    admin_client.post("/clients/people/bulk/", {"ids": ids, "action": "assign", "owner": admin.pk})
    assert set(Person.objects.filter(owner=admin).values_list("first_name", flat=True)) == {
        "Anna",
        "Boris",
    }
    assert timeline_of(Person.objects.get(first_name="Anna")).first().kind == "changed"


def test_global_search_finds_people_and_companies(manager_client, owner):
    person_create(actor=owner, data={"first_name": "Tigran", "last_name": "Petrosyan"})
    page = manager_client.get("/search/?q=petros").content.decode()
    assert "Tigran Petrosyan" in page


def test_each_user_chooses_the_columns_of_their_list(manager_client, owner):
    person_create(actor=owner, data={"first_name": "Anna", "source": "Fair 2026", "tags": ["vip"]})
    before = manager_client.get("/clients/people/").content.decode()
    assert "Fair 2026" not in before
    manager_client.post("/clients/people/columns/", {"columns": ["source", "tags", "nonsense"]})
    owner.refresh_from_db()
    assert owner.preferences["columns"]["person"] == ["source", "tags"]
    after = manager_client.get("/clients/people/").content.decode()
    assert "Fair 2026" in after and ">vip<" in after


def test_the_list_sorts_by_when_clients_were_added(manager_client, owner):
    for name in ["First", "Second", "Third"]:
        person_create(actor=owner, data={"first_name": name})
    page = manager_client.get("/clients/people/?sort=-created_at").content.decode()
    assert page.index("Third") < page.index("Second") < page.index("First")


def test_the_list_filters_by_the_date_added(manager_client, owner):
    person_create(actor=owner, data={"first_name": "Zoya"})
    assert (
        "Zoya" in manager_client.get("/clients/people/?created_after=2020-01-01").content.decode()
    )
    assert (
        "Zoya"
        not in manager_client.get("/clients/people/?created_before=2020-01-01").content.decode()
    )
    bad = manager_client.get("/clients/people/?created_after=yesterday").content.decode()
    assert "Enter a date as YYYY-MM-DD" in bad


def test_a_company_card_lists_only_the_people_one_may_see(owner, admin, db):
    from accord.accounts.models import Role
    from accord.accounts.services import role_save, user_create
    from accord.contacts.services import company_create
    from accord.core.visibility import RECORD_TYPES
    from tests.conftest import PASSWORD, log_in

    role_save(
        actor=admin,
        name="Own only",
        access={k: {"read": "own", "write": "own"} for k in RECORD_TYPES},
        capabilities=[],
    )
    loner = user_create(
        email="loner@example.com", password=PASSWORD, role=Role.objects.get(name="Own only").slug
    )
    acme = company_create(actor=admin, data={"name": "Acme", "owner": loner})
    person_create(actor=admin, data={"first_name": "Visible", "company": acme, "owner": loner})
    person_create(actor=admin, data={"first_name": "Hidden", "company": acme, "owner": owner})
    client = Client()
    log_in(client, loner.email)
    page = client.get(f"/clients/companies/{acme.pk}/").content.decode()
    assert "Visible" in page and "Hidden" not in page


def test_the_list_screen_costs_six_queries_however_long_the_page(
    manager_client, owner, admin, django_assert_max_num_queries
):
    from accord.accounts.models import Team
    from accord.core.services import custom_field_save

    Team.objects.create(name="Retail", head=owner)  # a head's scope needs no extra query
    custom_field_save(
        actor=admin, record_type="person", label="Size", type="choice", choices=["S", "M"]
    )
    for number in range(30):
        person_create(actor=owner, data={"first_name": f"P{number}", "city": "Moscow"})
    manager_client.get("/clients/people/")  # what a server keeps between requests
    with django_assert_max_num_queries(6):
        page = manager_client.get("/clients/people/?city=Moscow&sort=name").content.decode()
    assert page.count('class="col-phone"') == 30


def test_list_headers_sort_by_their_column(manager_client, owner):
    for city in ["Yerevan", "Berlin", "Moscow"]:
        person_create(actor=owner, data={"first_name": city[:3], "city": city})
    page = manager_client.get("/clients/people/?sort=city").content.decode()
    assert page.index(">Berlin<") < page.index(">Moscow<") < page.index(">Yerevan<")
    assert 'href="?sort=-city"' in page  # the City header now sorts the other way
