"""Settings → Products as an administrator prices things: a price list for a group with
its prices (a bad price shown by its product, nothing kept), and a personal discount
added and stopped."""

from decimal import Decimal

from django.test import Client

from accord.catalog.models import DiscountRule, PriceList
from accord.contacts.models import Tag
from accord.sales.services import product_save


def test_an_administrator_keeps_price_lists_and_discounts(admin):
    browser = Client()
    browser.force_login(admin)
    window = product_save(actor=admin, data={"name": "Window", "price": "9000", "currency": "RUB"})
    tag = Tag.objects.create(name="wholesale")
    new_list = {"add": "list", "list-name": "Wholesale", "list-currency": "RUB", "list-tag": tag.pk}
    made = browser.post("/settings/products/", new_list)
    price_list = PriceList.objects.get()
    assert made.headers["Location"] == f"/settings/price-lists/{price_list.pk}/"
    bad = browser.post(f"/settings/price-lists/{price_list.pk}/", {
        "list-name": "Wholesale", "list-currency": "RUB", "list-tag": tag.pk,
        f"price_{window.pk}": "eight thousand",
    })  # fmt: skip
    assert "Enter a number." in bad.content.decode()
    assert 'value="eight thousand"' in bad.content.decode()
    assert not price_list.items.exists()
    browser.post(f"/settings/price-lists/{price_list.pk}/", {
        "list-name": "Wholesale", "list-currency": "RUB", "list-tag": tag.pk,
        f"price_{window.pk}": "8000",
    })  # fmt: skip
    assert price_list.items.get().price == Decimal("8000")
    page = browser.get("/settings/products/").content.decode()
    assert "Wholesale" in page and "wholesale" in page

    rule = {"add": "rule", "rule-name": "Regulars", "rule-min_paid": "50000",
            "rule-currency": "RUB", "rule-months": "12"}  # fmt: skip
    refused = browser.post("/settings/products/", {**rule, "rule-percent": "150"})
    assert "Enter a number from 0.01 to 100." in refused.content.decode()
    browser.post("/settings/products/", {**rule, "rule-percent": "5"})
    rule = DiscountRule.objects.get()
    browser.post(f"/settings/discounts/{rule.pk}/retirement/")
    rule.refresh_from_db()
    assert rule.retired
    assert "Use again" in browser.get("/settings/products/").content.decode()
