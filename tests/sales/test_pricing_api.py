"""Prices through the API: price lists for a client group (a tag) with their prices, personal
discount rules, and what a product costs on a deal and why; only administrators change
them, bad values are 422s naming each field with nothing stored, and a deal the caller
may not see is a 404."""

import pytest
import time_machine

from accord.accounts.models import Role
from accord.accounts.services import token_create, user_create
from accord.billing.services import payment_record
from accord.catalog.models import DiscountRule, PriceList, PriceListItem
from accord.contacts.services import person_create
from accord.core.services import custom_field_save
from accord.sales.services import deal_create
from tests.api.test_errors import assert_problem
from tests.conftest import PASSWORD, ApiClient


@pytest.fixture
def admin_api(admin):
    return ApiClient(token_create(user=admin, name="admin")[1])


@pytest.fixture
def window(admin_api) -> dict:
    created = admin_api.post_json(
        "/api/v1/products", {"name": "Window", "price": "9000", "currency": "RUB"}
    )
    assert created.status_code == 201, created.content
    return created.json()


@pytest.fixture
def client(owner):
    return person_create(
        actor=owner, data={"first_name": "Anna", "last_name": "Petrova", "tags": ["wholesale"]}
    )


@pytest.fixture
def their_deal(owner, pipeline, client):
    return deal_create(actor=owner, data={"title": "Flat", "person": client, "currency": "RUB"})


def fields_of(response, status=422) -> list[str]:
    return [error["field"] for error in assert_problem(response, status)["errors"]]


def quote(api, deal, product) -> dict:
    answer = api.get(f"/api/v1/deals/{deal.pk}/quote", {"product": product["id"]})
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_a_price_list_for_a_tag_prices_its_clients_deals_until_a_product_is_taken_off(
    api, admin_api, window, their_deal
):
    created = admin_api.post_json(
        "/api/v1/price-lists", {"name": "Wholesale", "currency": "rub", "tag": "Wholesale"}
    )
    assert created.status_code == 201, created.content
    price_list = created.json()
    assert (price_list["currency"], price_list["tag"]) == ("RUB", "wholesale")
    assert (price_list["retired"], price_list["items"]) == (False, [])
    url = f"/api/v1/price-lists/{price_list['id']}"

    priced = admin_api.put_json(f"{url}/prices", {"prices": {window["id"]: "8000.50"}})
    assert priced.status_code == 200, priced.content
    assert priced.json()["items"] == [{"product": window["id"], "price": "8000.50"}]
    assert api.get(url).json()["items"] == priced.json()["items"]
    assert [item["name"] for item in api.get("/api/v1/price-lists").json()["items"]] == [
        "Wholesale"
    ]
    assert quote(api, their_deal, window) == {
        "currency": "RUB",
        "unit_price": "8000.50",
        "price_why": "Price list “Wholesale”",
        "discount_percent": None,
        "discount_why": "",
    }

    off = admin_api.put_json(f"{url}/prices", {"prices": {window["id"]: None}})
    assert off.json()["items"] == []
    assert not PriceListItem.objects.exists()
    fallback = quote(api, their_deal, window)
    assert (fallback["unit_price"], fallback["price_why"]) == ("9000.00", "")

    admin_api.put_json(f"{url}/prices", {"prices": {window["id"]: "8000"}})
    changed = admin_api.patch_json(url, {"tag": None, "name": "Everyone", "retired": True})
    assert changed.status_code == 200, changed.content
    assert (changed.json()["name"], changed.json()["tag"], changed.json()["retired"]) == (
        "Everyone",
        None,
        True,
    )
    # a retired list prices nothing
    assert quote(api, their_deal, window)["unit_price"] == "9000.00"
    admin_api.patch_json(url, {"retired": False})
    assert quote(api, their_deal, window)["price_why"] == "Price list “Everyone”"


def test_a_manager_may_read_the_lists_but_not_change_them(api, admin_api, window):
    refused = api.post_json("/api/v1/price-lists", {"name": "Mine", "currency": "RUB"})
    assert_problem(refused, 403)
    assert not PriceList.objects.exists()
    made = admin_api.post_json("/api/v1/price-lists", {"name": "Retail", "currency": "RUB"}).json()
    url = f"/api/v1/price-lists/{made['id']}"
    assert_problem(api.patch_json(url, {"name": "Mine"}), 403)
    assert_problem(api.put_json(f"{url}/prices", {"prices": {window["id"]: "1"}}), 403)
    assert_problem(api.post_json("/api/v1/discount-rules", {
        "name": "Mine", "percent": "50", "min_paid": "1", "currency": "RUB",
    }), 403)  # fmt: skip
    assert (PriceList.objects.get().name, PriceListItem.objects.count()) == ("Retail", 0)
    assert not DiscountRule.objects.exists()
    assert api.get(url).json()["name"] == "Retail"
    assert_problem(api.get("/api/v1/price-lists/999999"), 404)


def test_bad_values_are_422s_naming_each_field_and_nothing_is_stored(admin_api, window):
    lists = "/api/v1/price-lists"
    assert fields_of(admin_api.post_json(lists, {"name": "X", "currency": "XXQ"})) == ["currency"]
    assert fields_of(
        admin_api.post_json(lists, {"name": "X", "currency": "RUB", "tag": "nobody"})
    ) == ["tag"]
    assert fields_of(admin_api.post_json(lists, {"currency": "RUB"})) == ["name"]
    assert not PriceList.objects.exists()
    made = admin_api.post_json(lists, {"name": "Retail", "currency": "RUB"}).json()
    assert fields_of(admin_api.post_json(lists, {"name": "retail", "currency": "EUR"})) == ["name"]
    url = f"{lists}/{made['id']}"
    assert fields_of(admin_api.patch_json(url, {"currency": "XXQ"})) == ["currency"]
    prices = {window["id"]: "12.345", "999999": "5", "abc": "5"}
    assert sorted(fields_of(admin_api.put_json(f"{url}/prices", {"prices": prices}))) == [
        "prices.999999",
        "prices.abc",
    ]
    assert fields_of(admin_api.put_json(f"{url}/prices", {"prices": {window["id"]: "12.345"}})) == [
        f"prices.{window['id']}"
    ]
    assert fields_of(admin_api.put_json(f"{url}/prices", {"prices": {window["id"]: "lots"}})) == [
        f"prices.{window['id']}"
    ]
    assert fields_of(admin_api.put_json(f"{url}/prices", {"prices": {window["id"]: "-1"}})) == [
        f"prices.{window['id']}"
    ]
    assert not PriceListItem.objects.exists()
    assert PriceList.objects.get().currency == "RUB"

    rules = "/api/v1/discount-rules"
    bad = {"name": "Regulars", "percent": "150", "min_paid": "50000", "currency": "XXQ",
           "months": 0}  # fmt: skip
    assert sorted(fields_of(admin_api.post_json(rules, bad))) == ["currency", "months", "percent"]
    good = {**bad, "percent": "5", "currency": "RUB", "months": 12}
    assert fields_of(admin_api.post_json(rules, {**good, "min_paid": "0.001"})) == ["min_paid"]
    assert not DiscountRule.objects.exists()
    rule = admin_api.post_json(rules, good)
    assert rule.status_code == 201, rule.content
    url = f"{rules}/{rule.json()['id']}"
    assert sorted(fields_of(admin_api.patch_json(url, {"percent": "0", "months": 121}))) == [
        "months",
        "percent",
    ]
    assert admin_api.get(rules).json()["items"][0]["percent"] == "5.00"
    assert_problem(admin_api.patch_json(f"{rules}/999999", {"percent": "1"}), 404)


@pytest.mark.django_db(transaction=True)
def test_a_discount_rule_applies_in_a_quote_once_the_client_paid_enough(
    api, admin_api, owner, window, their_deal, client
):
    made = admin_api.post_json("/api/v1/discount-rules", {
        "name": "Regulars", "percent": "5", "min_paid": "50000", "currency": "RUB", "months": 6,
    })  # fmt: skip
    assert made.status_code == 201, made.content
    assert (made.json()["min_paid"], made.json()["months"]) == ("50000.00", 6)
    assert quote(api, their_deal, window)["discount_percent"] is None
    with time_machine.travel("2026-11-10 10:00Z"):
        payment_record(actor=owner, person=client, amount="60000", currency="RUB")
    answer = quote(api, their_deal, window)
    assert answer["discount_percent"] == "5.00"
    assert answer["discount_why"].startswith("Personal discount “Regulars”: RUB60,000.00 paid")
    retired = admin_api.patch_json(f"/api/v1/discount-rules/{made.json()['id']}", {"retired": True})
    assert retired.json()["retired"] is True
    assert quote(api, their_deal, window)["discount_percent"] is None


def test_a_quote_needs_a_deal_one_may_see_an_active_product_and_a_workable_formula(
    api, admin, admin_api, owner, window, their_deal
):
    url = f"/api/v1/deals/{their_deal.pk}/quote"
    assert fields_of(api.get(url)) == ["product"]
    assert fields_of(api.get(url, {"product": "999999"})) == ["product"]
    admin_api.patch_json(f"/api/v1/products/{window['id']}", {"active": False})
    assert fields_of(api.get(url, {"product": window["id"]})) == ["product"]

    width = custom_field_save(actor=admin, record_type="deal", label="Width", type="number")
    glazing = admin_api.post_json("/api/v1/products", {
        "name": "Glazing", "price": "0", "currency": "RUB", "price_formula": f"{width.key} * 3",
    }).json()  # fmt: skip
    refused = api.get(url, {"product": glazing["id"]})
    assert assert_problem(refused, 422)["errors"] == [
        {"field": "unit_price", "message": f"The deal has no “{width.key}” yet."}
    ]
    their_deal.custom_fields = {width.key: 1500}
    their_deal.save()
    priced = quote(api, their_deal, glazing)
    assert (priced["unit_price"], priced["price_why"]) == (
        "4500.00",
        f"By its formula: {width.key} * 3",
    )

    Role.objects.filter(slug="manager").update(access={
        **Role.objects.get(slug="manager").access, "deals": {"read": "own", "write": "own"},
    })  # fmt: skip
    rival = user_create(email="rival@example.com", password=PASSWORD, role="manager")
    other = ApiClient(token_create(user=rival, name="rival")[1])
    assert_problem(other.get(url, {"product": glazing["id"]}), 404)
    assert_problem(api.get("/api/v1/deals/999999/quote", {"product": glazing["id"]}), 404)


def test_a_product_price_with_more_than_two_decimals_is_a_422_not_a_500(admin_api):
    answer = admin_api.post_json(
        "/api/v1/products", {"name": "X", "price": "999999999999.999", "currency": "RUB"}
    )
    assert fields_of(answer) == ["price"]
