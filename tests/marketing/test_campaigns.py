"""Channels and campaigns: who may run them, what they are checked for, and what each cost
— the expenses that name it — on the pages and through the API."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from accord.accounts.models import Role
from accord.accounts.roles import ensure_shipped_roles
from accord.accounts.services import token_create, user_create
from accord.billing.models import Expense, ExpenseCategory
from accord.billing.services import expense_save
from accord.marketing.models import Campaign, Channel
from accord.marketing.queries import campaign_results
from accord.marketing.services import campaign_save, channel_save, form_save, submission_receive
from accord.sales.models import Deal
from accord.sales.services import deal_update, deal_win
from tests.conftest import PASSWORD, ApiClient, log_in, run_worker


@pytest.fixture
def marketer(db):
    return user_create(email="mark@example.com", password=PASSWORD, role="marketing")


@pytest.fixture
def marketer_client(marketer):
    client = Client()
    assert log_in(client, marketer.email)
    return client


def ads() -> Channel:
    return Channel.objects.get(code="ads")


def test_a_new_instance_has_the_usual_channels_and_an_admin_adds_one(admin, owner):
    codes = set(Channel.objects.values_list("code", flat=True))
    assert {"site", "ads", "social", "referral", "walk-in", "phone"} <= codes
    yandex = channel_save(actor=admin, data={"name": "Yandex Direct", "kind": "ads"})
    assert yandex.code == "yandex-direct" and str(yandex) == "Yandex Direct"
    with pytest.raises(ValidationError) as refused:
        channel_save(actor=admin, data={"name": "Ads again", "code": "ads"})
    assert "Another channel has this code." in refused.value.message_dict["code"]
    with pytest.raises(PermissionDenied):
        channel_save(actor=owner, data={"name": "My own channel"})


def test_a_campaign_is_checked_before_it_is_kept(marketer):
    data = {"name": "Spring", "channel": ads(), "currency": "EUR", "code": "spring sale!",
            "budget": "-5", "starts_on": date(2026, 5, 1), "ends_on": date(2026, 4, 1)}  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        campaign_save(actor=marketer, data=data)
    errors = refused.value.message_dict
    assert set(errors) == {"code", "budget", "ends_on"}
    campaign = campaign_save(
        actor=marketer, data={**data, "code": "Spring-Sale", "budget": "1500", "ends_on": None}
    )
    assert campaign.code == "spring-sale" and campaign.owner == marketer
    with pytest.raises(ValidationError) as taken:
        campaign_save(actor=marketer, data={**data, "code": "spring-sale", "budget": "",
                                            "ends_on": None})  # fmt: skip
    assert "Another campaign has this code." in taken.value.message_dict["code"]
    assert Campaign.objects.count() == 1


def test_a_manager_sees_campaigns_but_does_not_run_them(owner, manager_client, marketer):
    campaign = campaign_save(
        actor=marketer, data={"name": "Spring", "channel": ads(), "currency": "EUR"}
    )
    assert "Spring" in manager_client.get("/marketing/campaigns/").content.decode()
    assert manager_client.get("/marketing/campaigns/new/").status_code == 404
    assert manager_client.get(f"/marketing/campaigns/{campaign.pk}/edit/").status_code == 404
    with pytest.raises(PermissionDenied):
        campaign_save(actor=owner, data={"name": "Mine", "channel": ads(), "currency": "EUR"})


def test_a_campaign_made_on_its_page_shows_what_its_expenses_cost(marketer_client, admin):
    page = marketer_client.get("/marketing/campaigns/").content.decode()
    assert "Start the first campaign" in page
    bad = marketer_client.post("/marketing/campaigns/new/", {
        "name": "Balconies on Instagram", "channel": Channel.objects.get(code="social").pk,
        "currency": "EUR", "budget": "lots", "starts_on": "2026-11-01"})  # fmt: skip
    assert "Enter an amount" in bad.content.decode()
    assert 'value="Balconies on Instagram"' in bad.content.decode()  # the form keeps it
    made = marketer_client.post("/marketing/campaigns/new/", {
        "name": "Balconies on Instagram", "channel": Channel.objects.get(code="social").pk,
        "currency": "EUR", "budget": "800", "starts_on": "2026-11-01"})  # fmt: skip
    assert made.status_code == 302
    campaign = Campaign.objects.get()
    admin_client = Client()
    assert log_in(admin_client, admin.email)
    form = admin_client.get(f"/money/expenses/?campaign={campaign.pk}").content.decode()
    assert f'<option value="{campaign.pk}" selected>' in form
    advertising = ExpenseCategory.objects.get(name="Advertising")
    for amount in ("120", "95.50"):
        added = admin_client.post(f"/money/expenses/?campaign={campaign.pk}", {
            "spent_on": "2026-11-20", "amount": amount, "currency": "EUR",
            "category": advertising.pk, "campaign": campaign.pk})  # fmt: skip
        assert added.status_code == 302
    expense_save(actor=admin, data={"amount": "40", "currency": "EUR", "category": advertising})
    shown = marketer_client.get(f"/marketing/campaigns/{campaign.pk}/").content.decode()
    assert "€215.50" in shown and "€584.50" in shown  # spent, and left of the 800 budget
    listed = marketer_client.get("/marketing/campaigns/").content.decode()
    assert "€215.50" in listed and "€800.00" in listed


def test_the_api_runs_campaigns_and_counts_their_costs(marketer, admin):
    _token, key = token_create(user=marketer, name="tests")
    api = ApiClient(key)
    channels = api.get("/api/v1/channels").json()
    social = next(channel["id"] for channel in channels if channel["code"] == "social")
    bad = api.post_json("/api/v1/campaigns", {"name": "X", "channel": "999", "currency": "EUR"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "channel"
    made = api.post_json("/api/v1/campaigns", {"name": "Balconies", "channel": social,
                                               "currency": "EUR", "budget": "800",
                                               "code": "insta"})  # fmt: skip
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["budget"] == "800.00" and body["spent"] == []
    category = ExpenseCategory.objects.get(name="Advertising")
    expense_save(actor=admin, data={"amount": "120", "currency": "EUR", "category": category,
                                    "campaign": Campaign.objects.get()})  # fmt: skip
    listed = api.get("/api/v1/campaigns").json()["items"]
    assert listed[0]["spent"] == [{"currency": "EUR", "amount": "120.00"}]
    stale = api.patch_json(made["Location"], {"retired": True},
                           HTTP_IF_MATCH=f'W/"{body["id"]}-0"')  # fmt: skip
    assert stale.status_code == 412
    done = api.patch_json(made["Location"], {"retired": True}, HTTP_IF_MATCH=made["ETag"])
    assert done.status_code == 200 and done.json()["retired"] is True
    assert api.get("/api/v1/campaigns?finished=false").json()["items"] == []
    # An expense names a campaign through the API too, and is found by it.
    _token, key = token_create(user=admin, name="tests")
    admin_api = ApiClient(key)
    spent = admin_api.post_json("/api/v1/expenses", {"amount": "30", "currency": "EUR",
                                                     "category": str(category.pk),
                                                     "campaign": body["id"]})  # fmt: skip
    assert spent.status_code == 201 and spent.json()["campaign"] == body["id"]
    found = admin_api.get(f"/api/v1/expenses?campaign={body['id']}").json()["items"]
    assert sorted(item["amount"] for item in found) == ["120.00", "30.00"]
    unknown = admin_api.post_json("/api/v1/expenses", {"amount": "1", "currency": "EUR",
                                                       "category": str(category.pk),
                                                       "campaign": "999"})  # fmt: skip
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "campaign"
    assert Expense.objects.count() == 2


def test_an_upgraded_instance_s_roles_get_the_record_types_added_since(db):
    admin_role = Role.objects.get(slug="administrator")
    manager_role = Role.objects.get(slug="manager")
    for role in (admin_role, manager_role):
        role.access.pop("campaigns")
        role.access.pop("invoices")
    manager_role.access["deals"] = {"read": "own", "write": "own"}  # the admin's own choice
    admin_role.save()
    manager_role.save()
    ensure_shipped_roles()
    admin_role.refresh_from_db()
    manager_role.refresh_from_db()
    assert admin_role.level("campaigns", "write") == "all"
    assert admin_role.level("invoices", "read") == "all"
    assert manager_role.level("campaigns", "read") == "all"
    assert manager_role.level("deals", "read") == "own"  # kept


def test_a_campaign_counts_its_leads_sales_and_return_and_one_that_sells_nothing_stands_out(
    marketer, admin, admin_client, django_capture_on_commit_callbacks
):
    spring = campaign_save(actor=marketer, data={"name": "Spring", "channel": ads(),
                                                 "currency": "EUR", "code": "spring"})  # fmt: skip
    idle = campaign_save(actor=marketer, data={"name": "Banner", "channel": ads(),
                                               "currency": "EUR", "code": "banner"})  # fmt: skip
    advertising = ExpenseCategory.objects.get(name="Advertising")
    for campaign, amount in ((spring, "300"), (idle, "500")):
        expense_save(actor=admin, data={"amount": amount, "currency": "EUR",
                                        "category": advertising, "campaign": campaign})  # fmt: skip
    form = form_save(actor=admin, data={"name": "Call me", "creates_deal": True, "fields": [
        {"key": "name"}, {"key": "phone", "required": True}]})  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):  # the page's commit: queued
        for number in range(2):
            submission_receive(form=form, values={"name": f"Lead {number}",
                                                  "phone": f"+7 916 123-45-0{number}"},
                               came_from={"utm_campaign": "spring"}, address=f"10.0.0.{number}",
                               origin="", own_host="")  # fmt: skip
    run_worker()  # files the requests
    deal = Deal.objects.order_by("pk").first()
    deal_update(actor=admin, deal=deal, data={"amount": Decimal("1000"), "currency": "EUR"})
    deal_win(actor=admin, deal=Deal.objects.get(pk=deal.pk))
    results = campaign_results([spring, idle])
    assert (results[spring.pk].leads, results[spring.pk].deals, results[spring.pk].won) == (2, 2, 1)
    assert results[spring.pk].per_lead("EUR") == Decimal("150.00")
    assert results[spring.pk].per_sale("EUR") == Decimal("300.00")
    assert results[spring.pk].return_percent("EUR") == Decimal("233")
    assert results[idle.pk].wasted and not results[spring.pk].wasted
    page = admin_client.get("/marketing/campaigns/").content.decode()
    assert page.count("No sales") == 1 and "233 %" in page and "€150.00" in page


def test_a_sale_that_costs_over_the_admin_s_limit_is_flagged(admin, marketer):
    from accord.core.models import CompanyProfile
    from accord.marketing.queries import Results

    results = Results(
        leads=10, won=2, spent={"EUR": Decimal("900")}, revenue={"EUR": Decimal("1000")}
    )
    assert results.flag("EUR", None) == ""
    assert results.flag("EUR", Decimal("400")) == "A sale costs over €400.00"  # 450 a sale
    assert Results(spent={"EUR": Decimal("5")}).flag("EUR", None) == "Spends without selling"
    client = Client()
    assert log_in(client, admin.email)
    client.post("/marketing/cost-limit/", {"limit": "300"})
    assert CompanyProfile.current().max_cost_per_sale == Decimal("300.00")
    client.post("/marketing/cost-limit/", {"limit": ""})
    CompanyProfile.forget()
    assert CompanyProfile.current().max_cost_per_sale is None
    other = Client()
    assert log_in(other, marketer.email)
    assert other.post("/marketing/cost-limit/", {"limit": "1"}).status_code == 404
