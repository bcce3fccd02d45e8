"""Who may list, open, change and delete whose clients — every shipped role, through the
web screens and the API. 1 = allowed, 0 = refused (and then the row is unchanged)."""

import pytest
from django.test import Client

from accord.accounts.models import Role
from accord.accounts.services import role_save, team_save, token_create, user_create
from accord.contacts.models import Person
from accord.contacts.services import person_create
from accord.core.visibility import RECORD_TYPES
from tests.conftest import PASSWORD, ApiClient, log_in

OWN, MATE, OTHER = 0, 1, 2  # my client, a teammate's, another team's
EXPECTED = {
    #                 list       detail     update     delete
    "administrator": ((1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 1, 1)),
    "head-of-sales": ((1, 1, 1), (1, 1, 1), (1, 1, 0), (1, 1, 0)),
    "manager":       ((1, 1, 1), (1, 1, 1), (1, 0, 0), (0, 0, 0)),
    "marketing":     ((1, 1, 1), (1, 1, 1), (1, 0, 0), (0, 0, 0)),
    "support":       ((1, 1, 1), (1, 1, 1), (1, 1, 0), (0, 0, 0)),
    "read-only":     ((1, 1, 1), (1, 1, 1), (0, 0, 0), (0, 0, 0)),
    "own-only":      ((1, 0, 0), (1, 0, 0), (1, 0, 0), (1, 0, 0)),
}  # fmt: skip


@pytest.fixture
def world(db):
    boss = user_create(email="boss@example.com", password=PASSWORD, role="administrator")
    access = {kind: {"read": "own", "write": "own"} for kind in RECORD_TYPES}
    role_save(actor=boss, name="Own only", access=access, capabilities=["delete"])
    Role.objects.filter(name="Own only").update(slug="own-only")
    mate = user_create(email="mate@example.com", password=PASSWORD, role="manager")
    other = user_create(email="other@example.com", password=PASSWORD, role="manager")
    sales = team_save(actor=boss, name="Sales", head=None, members=[mate])
    team_save(actor=boss, name="Support", head=None, members=[other])
    return {"boss": boss, "mate": mate, "other": other, "sales": sales}


def me_in_sales(world, role):
    """A user of this role in the Sales team, beside the teammate (the deal and task
    matrices use it too)."""
    me = user_create(email=f"me-{role}@example.com", password=PASSWORD, role=role)
    team_save(actor=world["boss"], team=world["sales"], name="Sales", head=None,
              members=[me, world["mate"]])  # fmt: skip
    return type(me).objects.get(pk=me.pk)


def clients_for(world, role):
    me = me_in_sales(world, role)
    rows = [
        person_create(actor=world["boss"], data={"first_name": f"Client of {who}", "owner": owner})
        for who, owner in [("me", me), ("mate", world["mate"]), ("other", world["other"])]
    ]
    return me, rows


def unchanged(row) -> bool:
    fresh = Person.objects.filter(pk=row.pk).first()
    return fresh is not None and fresh.version == row.version and fresh.city == row.city


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_the_web_screens_follow_the_matrix(world, role):
    me, rows = clients_for(world, role)
    client = Client()
    assert log_in(client, me.email)
    lists, details, updates, deletes = EXPECTED[role]
    listed = client.get("/clients/people/").content.decode()
    for index, row in enumerate(rows):
        assert int(row.full_name in listed) == lists[index], ("list", row)
        detail = client.get(f"/clients/people/{row.pk}/")
        assert int(detail.status_code == 200) == details[index], ("detail", row)
        assert detail.status_code in (200, 404)
        edited = client.post(f"/clients/people/{row.pk}/edit/",
                             {"first_name": row.first_name, "city": "Changed"})  # fmt: skip
        assert int(edited.status_code == 302) == updates[index], ("update", row)
        if not updates[index]:
            assert edited.status_code == 404
            assert unchanged(row)
        else:
            row.refresh_from_db()
        client.post(f"/clients/people/{row.pk}/delete/")
        gone = not Person.objects.filter(pk=row.pk).exists()
        assert int(gone) == deletes[index], ("delete", row)
        if not gone:
            assert unchanged(row)


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_the_api_follows_the_matrix(world, role):
    me, rows = clients_for(world, role)
    api = ApiClient(token_create(user=me, name="matrix")[1])
    lists, details, updates, deletes = EXPECTED[role]
    listed = {item["id"] for item in api.get("/api/v1/people?limit=200").json()["items"]}
    for index, row in enumerate(rows):
        url = f"/api/v1/people/{row.pk}"
        assert int(str(row.pk) in listed) == lists[index], ("list", row)
        detail = api.get(url)
        assert detail.status_code == (200 if details[index] else 404), ("detail", row)
        patched = api.patch(url, {"city": "Changed"}, content_type="application/json")
        if updates[index]:
            assert patched.status_code == 200, ("update", row)
            row.refresh_from_db()
        else:
            assert patched.status_code in (403, 404), ("update", row)
            assert patched.status_code == (403 if details[index] else 404)
            assert unchanged(row)
        deleted = api.delete(url)
        if deletes[index]:
            assert deleted.status_code == 204, ("delete", row)
            assert not Person.objects.filter(pk=row.pk).exists()
        else:
            assert deleted.status_code == (403 if details[index] else 404), ("delete", row)
            assert unchanged(row)
