"""Loyalty points through the API: the programme set up by an administrator, points earned
by a payment and shown with their history, redeemed on an invoice as a payment, never
more than the client has; a client the caller may not see is a 404."""

import pytest
import time_machine

from accord.accounts.models import Role
from accord.accounts.services import token_create, user_create
from accord.billing.models import Invoice, LoyaltyProgram, Payment
from accord.billing.services import invoice_from_deal, invoice_issue
from tests.api.test_errors import assert_problem
from tests.conftest import PASSWORD, ApiClient

PROGRAMME = {"enabled": True, "currency": "RUB", "earn_per": "100", "point_value": "1"}


@pytest.fixture
def admin_api(admin):
    return ApiClient(token_create(user=admin, name="admin")[1])


@pytest.fixture
def program(admin_api):
    answer = admin_api.put_json("/api/v1/loyalty", PROGRAMME)
    assert answer.status_code == 200, answer.content
    return answer.json()


def issued(owner, deal) -> Invoice:
    with time_machine.travel("2026-11-20 10:00Z"):
        return invoice_issue(actor=owner, invoice=invoice_from_deal(actor=owner, deal=deal))


def fields_of(response, status=422) -> list[str]:
    return [error["field"] for error in assert_problem(response, status)["errors"]]


def test_the_programme_is_set_by_an_administrator(api, admin_api):
    assert_problem(api.get("/api/v1/loyalty"), 404)
    assert_problem(api.put_json("/api/v1/loyalty", PROGRAMME), 403)
    assert not LoyaltyProgram.objects.exists()
    bad = {**PROGRAMME, "currency": "XXQ", "earn_per": "0"}
    assert sorted(fields_of(admin_api.put_json("/api/v1/loyalty", bad))) == [
        "currency",
        "earn_per",
    ]
    assert fields_of(admin_api.put_json("/api/v1/loyalty", {"enabled": True})) == [
        "currency",
        "earn_per",
        "point_value",
    ]
    assert not LoyaltyProgram.objects.exists()
    saved = admin_api.put_json("/api/v1/loyalty", {**PROGRAMME, "point_value": "0.50"})
    assert saved.status_code == 200, saved.content
    expected = {"enabled": True, "currency": "RUB", "earn_per": "100.00", "point_value": "0.50"}
    assert saved.json() == expected
    assert api.get("/api/v1/loyalty").json() == expected


def test_points_are_earned_shown_and_redeemed_on_an_invoice(api, owner, deal, program):
    first = issued(owner, deal)
    with time_machine.travel("2026-11-25 10:00Z"):
        paid = api.post_json(
            "/api/v1/payments", {"invoice": str(first.pk), "amount": "58500.50", "currency": "RUB"}
        )
    assert paid.status_code == 201, paid.content
    balance = api.get("/api/v1/loyalty/balance", {"company": deal.company.pk})
    assert balance.status_code == 200, balance.content
    assert balance.json()["points"] == 585
    [earned] = balance.json()["history"]
    assert (earned["kind"], earned["points"], earned["invoice"]) == ("earned", 585, None)
    assert earned["at"].startswith("2026-11-25T10:00")

    second = issued(owner, deal)
    url = f"/api/v1/invoices/{second.pk}/redeem-points"
    with time_machine.travel("2026-11-26 10:00Z"):
        too_many = api.post_json(url, {"points": 586})
        assert assert_problem(too_many, 422)["errors"] == [
            {"field": "points", "message": "The client has 585 points."}
        ]
        assert fields_of(api.post_json(url, {"points": 0})) == ["points"]
        redeemed = api.post_json(url, {"points": 500})
    assert redeemed.status_code == 201, redeemed.content
    payment = redeemed.json()
    assert redeemed["Location"] == f"/api/v1/payments/{payment['id']}"
    assert (payment["method"], payment["amount"], payment["received_on"]) == (
        "points",
        "500.00",
        "2026-11-26",
    )
    assert [a["invoice_number"] for a in payment["allocations"]] == [second.number]
    second.refresh_from_db()
    assert (second.status, second.paid) == (Invoice.PARTLY_PAID, 500)
    after = api.get("/api/v1/loyalty/balance", {"company": deal.company.pk}).json()
    assert after["points"] == 85  # paying with points earns none
    assert [(e["kind"], e["points"], e["invoice"]) for e in after["history"]] == [
        ("redeemed", -500, second.number),
        ("earned", 585, None),
    ]
    assert Payment.objects.filter(method=Payment.POINTS).count() == 1


def test_a_client_is_named_once_and_one_the_caller_may_not_see_is_a_404(api, owner, deal, program):
    balance = "/api/v1/loyalty/balance"
    assert fields_of(api.get(balance)) == ["person", "company"]
    both = {"person": deal.person.pk, "company": deal.company.pk}
    assert fields_of(api.get(balance, both)) == ["person", "company"]
    assert api.get(balance, {"person": deal.person.pk}).json() == {"points": 0, "history": []}
    assert_problem(api.get(balance, {"company": "999999"}), 404)

    Role.objects.filter(slug="manager").update(access={
        **Role.objects.get(slug="manager").access, "clients": {"read": "own", "write": "own"},
    })  # fmt: skip
    outsider = user_create(email="sam@example.com", password=PASSWORD, role="manager")
    other = ApiClient(token_create(user=outsider, name="sam")[1])
    assert_problem(other.get(balance, {"company": deal.company.pk}), 404)
    assert_problem(other.get(balance, {"person": deal.person.pk}), 404)
    invoice = issued(owner, deal)
    redeem = other.post_json(f"/api/v1/invoices/{invoice.pk}/redeem-points", {"points": 1})
    assert_problem(redeem, 404)
