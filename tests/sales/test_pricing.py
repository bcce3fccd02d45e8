"""What a product costs on a deal, and why: by its formula over the deal's sizes, by the
price list of the client's group or the general one, and less the personal discount the
client earned by what they paid — each shown on the item; typed values win."""

from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from accord.billing.services import invoice_from_deal, payment_record
from accord.catalog.models import PriceList
from accord.contacts.services import person_create
from accord.core.services import custom_field_save
from accord.sales.services import deal_create, deal_update, line_item_save, product_save
from accord.sales.services.products import (
    discount_rule_save,
    price_list_prices,
    price_list_save,
)


@pytest.fixture
def window(admin):
    return product_save(actor=admin, data={"name": "Window", "price": "9000", "currency": "RUB",
                                            "unit": "pcs"})  # fmt: skip


@pytest.fixture
def client(admin):
    return person_create(actor=admin, data={"first_name": "Anna", "last_name": "Petrova",
                                            "tags": ["wholesale"]})  # fmt: skip


def test_a_formula_prices_windows_by_the_deals_sizes(admin, pipeline, client):
    width = custom_field_save(actor=admin, record_type="deal", label="Width", type="number")
    height = custom_field_save(actor=admin, record_type="deal", label="Height", type="number")
    glazing = product_save(actor=admin, data={
        "name": "Glazing", "price": "0", "currency": "RUB",
        "price_formula": f"{width.key} * {height.key} / 1000000 * 4500",
    })  # fmt: skip
    deal = deal_create(actor=admin, data={"title": "Flat", "person": client, "currency": "RUB"})
    with pytest.raises(ValidationError) as refused:
        line_item_save(actor=admin, deal=deal, data={"product": glazing})
    assert refused.value.message_dict["unit_price"] == [f"The deal has no “{width.key}” yet."]
    deal = deal_update(actor=admin, deal=deal,
                       data={"custom_fields": {width.key: 1200, height.key: 1400}})  # fmt: skip
    item = line_item_save(actor=admin, deal=deal, data={"product": glazing, "quantity": "2"})
    assert item.unit_price == Decimal("7560.00")
    assert item.pricing == f"By its formula: {width.key} * {height.key} / 1000000 * 4500"


def test_a_formula_is_checked_when_the_product_is_saved(admin):
    custom_field_save(actor=admin, record_type="deal", label="Width", type="number")
    for formula, message in [
        ("width *", "does not read"),
        ("depth * 2", "Deals have no number field “depth”"),
        ("__import__('os')", "only min, max, round and ceil"),
        ("width ** 2", "+ − × ÷ and brackets only"),
    ]:
        with pytest.raises(ValidationError) as refused:
            product_save(actor=admin, data={"name": "X", "price": "1", "currency": "RUB",
                                            "price_formula": formula})  # fmt: skip
        assert message in refused.value.message_dict["price_formula"][0], formula


def test_the_client_groups_price_list_comes_before_the_general_one(admin, pipeline, client, window):
    general = price_list_save(actor=admin, data={"name": "Retail", "currency": "RUB"})
    group = price_list_save(actor=admin, data={
        "name": "Wholesale", "currency": "RUB", "tag": client.tags.get(),
    })  # fmt: skip
    price_list_prices(actor=admin, price_list=general, prices={window.pk: "9500"})
    price_list_prices(actor=admin, price_list=group, prices={window.pk: "8000"})
    theirs = deal_create(actor=admin, data={"title": "A", "person": client, "currency": "RUB"})
    item = line_item_save(actor=admin, deal=theirs, data={"product": window})
    assert (item.unit_price, item.pricing) == (Decimal("8000"), "Price list “Wholesale”")
    stranger = person_create(actor=admin, data={"first_name": "Ivan"})
    other = deal_create(actor=admin, data={"title": "B", "person": stranger, "currency": "RUB"})
    item = line_item_save(actor=admin, deal=other, data={"product": window})
    assert (item.unit_price, item.pricing) == (Decimal("9500"), "Price list “Retail”")
    typed = line_item_save(actor=admin, deal=other, data={"product": window, "unit_price": "10"})
    assert (typed.unit_price, typed.pricing) == (Decimal("10"), "")
    price_list_prices(actor=admin, price_list=general, prices={window.pk: ""})
    assert not PriceList.objects.get(pk=general.pk).items.exists()


def test_a_product_in_another_currency_is_priced_by_a_list_in_the_deals(admin, pipeline, window):
    dollars = price_list_save(actor=admin, data={"name": "Export", "currency": "USD"})
    deal = deal_create(actor=admin, data={"title": "Export", "currency": "USD"})
    with pytest.raises(ValidationError, match="priced in RUB"):
        line_item_save(actor=admin, deal=deal, data={"product": window})
    price_list_prices(actor=admin, price_list=dollars, prices={window.pk: "99"})
    assert line_item_save(actor=admin, deal=deal, data={"product": window}).unit_price == 99


@pytest.mark.django_db(transaction=True)
def test_a_client_who_paid_enough_gets_the_personal_discount(admin, pipeline, client, window):
    discount_rule_save(actor=admin, data={"name": "Regulars", "percent": "5",
                                          "min_paid": "50000", "currency": "RUB"})  # fmt: skip
    discount_rule_save(actor=admin, data={"name": "Friends", "percent": "10",
                                          "min_paid": "500000", "currency": "RUB"})  # fmt: skip
    deal = deal_create(actor=admin, data={"title": "More", "person": client, "currency": "RUB"})
    assert line_item_save(actor=admin, deal=deal, data={"product": window}).discount_percent == 0
    with time_machine.travel("2026-03-10 10:00Z"):
        payment_record(actor=admin, person=client, amount="60000", currency="RUB")
    with time_machine.travel("2026-06-01 10:00Z"):
        item = line_item_save(actor=admin, deal=deal, data={"product": window})
        typed = line_item_save(actor=admin, deal=deal,
                               data={"product": window, "discount_percent": "0"})  # fmt: skip
    assert item.discount_percent == 5
    assert item.pricing.startswith("Personal discount “Regulars”: RUB60,000.00 paid since")
    assert (typed.discount_percent, typed.pricing) == (0, "")
    with time_machine.travel("2027-04-01 10:00Z"):  # the payment is older than twelve months
        assert (
            line_item_save(actor=admin, deal=deal, data={"product": window}).discount_percent == 0
        )


def test_prices_keep_two_decimals_and_a_formula_too_large_is_refused(admin, pipeline, client):
    with pytest.raises(ValidationError) as refused:
        product_save(actor=admin, data={"name": "X", "price": "10.999", "currency": "RUB"})
    assert refused.value.message_dict["price"] == ["Enter at most 2 decimals."]
    width = custom_field_save(actor=admin, record_type="deal", label="Width", type="number")
    huge = product_save(actor=admin, data={"name": "Huge", "price": "0", "currency": "RUB",
                                           "price_formula": f"{width.key} * 1e30"})  # fmt: skip
    deal = deal_create(actor=admin, data={"title": "Big", "person": client, "currency": "RUB",
                                          "custom_fields": {width.key: 5}})  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        line_item_save(actor=admin, deal=deal, data={"product": huge})
    assert refused.value.message_dict["unit_price"] == ["The formula's result is too large."]
    assert not deal.line_items.exists()


@pytest.mark.django_db(transaction=True)
def test_a_products_tax_in_the_price_goes_onto_the_deal_and_its_invoice(admin, pipeline, client):
    taxed = {"price": "120", "currency": "RUB", "tax_percent": "20", "tax_included": True}
    service = product_save(actor=admin, data={"name": "Visit", **taxed})
    deal = deal_create(actor=admin, data={"title": "Visit", "person": client, "currency": "RUB"})
    item = line_item_save(actor=admin, deal=deal, data={"product": service, "quantity": "2"})
    assert (item.tax_percent, item.tax_included, item.total) == (20, True, Decimal("240.00"))
    deal.refresh_from_db()
    assert deal.amount == Decimal("240.00")
    invoice = invoice_from_deal(actor=admin, deal=deal)
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        Decimal("200.00"), Decimal("40.00"), Decimal("240.00"),
    )  # fmt: skip
    on_top = line_item_save(actor=admin, deal=deal,
                            data={"product": service, "tax_included": False})  # fmt: skip
    assert on_top.total == Decimal("144.00")
