# ruff: noqa: F811 (the shared `world` fixture is imported, then requested by name)
"""Who may list, open, change and close whose deals — every shipped role, through the web
screens and the API. 1 = allowed, 0 = refused (and then the deal is unchanged); a deal
one may not see is a 404. Deals have no delete: closing (won) is the final action, and a
DELETE changes nothing for anyone."""

import pytest
from django.test import Client

from accord.accounts.services import token_create
from accord.sales.models import Deal
from accord.sales.services import deal_create
from tests.conftest import ApiClient, log_in
from tests.contacts.test_visibility_matrix import me_in_sales, world  # noqa: F401 (fixture)

OWN, MATE, OTHER = 0, 1, 2  # my deal, a teammate's, another team's
EXPECTED = {
    #                 list       detail     update     close
    "administrator": ((1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 1, 1)),
    "head-of-sales": ((1, 1, 1), (1, 1, 1), (1, 1, 0), (1, 1, 0)),
    "manager":       ((1, 1, 0), (1, 1, 0), (1, 0, 0), (1, 0, 0)),
    "marketing":     ((1, 1, 1), (1, 1, 1), (0, 0, 0), (0, 0, 0)),
    "support":       ((1, 1, 1), (1, 1, 1), (0, 0, 0), (0, 0, 0)),
    "read-only":     ((1, 1, 1), (1, 1, 1), (0, 0, 0), (0, 0, 0)),
    "own-only":      ((1, 0, 0), (1, 0, 0), (1, 0, 0), (1, 0, 0)),
}  # fmt: skip


def deals_for(world, role):
    me = me_in_sales(world, role)
    rows = [
        deal_create(actor=world["boss"], data={"title": f"Deal of {who}", "owner": owner})
        for who, owner in [("me", me), ("mate", world["mate"]), ("other", world["other"])]
    ]
    return me, rows


def unchanged(row) -> bool:
    fresh = Deal.objects.filter(pk=row.pk).first()
    return fresh is not None and (fresh.version, fresh.title, fresh.status) == (
        row.version,
        row.title,
        row.status,
    )


def edited(row) -> dict:
    return {"title": f"{row.title} (changed)", "pipeline": row.pipeline_id,
            "currency": row.currency, "owner": row.owner_id, "version": row.version}  # fmt: skip


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_the_web_screens_follow_the_matrix(world, role):
    me, rows = deals_for(world, role)
    client = Client()
    assert log_in(client, me.email)
    lists, details, updates, closes = EXPECTED[role]
    listed = client.get("/deals/list/").content.decode()
    for index, row in enumerate(rows):
        assert int(row.title in listed) == lists[index], ("list", row)
        detail = client.get(f"/deals/{row.pk}/")
        assert detail.status_code == (200 if details[index] else 404), ("detail", row)
        changed = client.post(f"/deals/{row.pk}/edit/", edited(row))
        if updates[index]:
            assert changed.status_code == 302, ("update", row)
            row.refresh_from_db()
            assert row.title.endswith("(changed)")
        else:
            assert changed.status_code == 404, ("update", row)
            assert unchanged(row)
        won = client.post(f"/deals/{row.pk}/win/")
        if closes[index]:
            row.refresh_from_db()
            assert row.status == Deal.WON, ("close", row)
        else:
            assert won.status_code == (302 if details[index] else 404), ("close", row)
            assert unchanged(row)


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_the_api_follows_the_matrix(world, role):
    me, rows = deals_for(world, role)
    api = ApiClient(token_create(user=me, name="matrix")[1])
    lists, details, updates, closes = EXPECTED[role]
    listed = {item["id"] for item in api.get("/api/v1/deals?limit=200").json()["items"]}
    for index, row in enumerate(rows):
        url = f"/api/v1/deals/{row.pk}"
        assert int(str(row.pk) in listed) == lists[index], ("list", row)
        detail = api.get(url)
        assert detail.status_code == (200 if details[index] else 404), ("detail", row)
        patched = api.patch(url, {"title": "Changed"}, content_type="application/json")
        if updates[index]:
            assert patched.status_code == 200, ("update", row)
            row.refresh_from_db()
            assert row.title == "Changed"
        else:
            assert patched.status_code == (403 if details[index] else 404), ("update", row)
            assert unchanged(row)
        won = api.post(f"{url}/win")
        if closes[index]:
            assert won.status_code == 200, ("close", row)
            row.refresh_from_db()
            assert row.status == Deal.WON
        else:
            assert won.status_code == (403 if details[index] else 404), ("close", row)
            assert unchanged(row)
        deleted = api.delete(url)
        assert deleted.status_code in (404, 405), ("delete", row)
        assert Deal.objects.filter(pk=row.pk).exists()
