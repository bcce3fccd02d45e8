"""Settings → Company and the first administrator's first step: where the company works
sets the defaults for phone numbers, money, clocks and language."""

from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accord.contacts.models import Person
from accord.core.company import default_currency, default_region, default_time_zone
from accord.core.models import CompanyProfile
from tests.conftest import log_in

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")  # fmt: skip
FORM = {"country": "IL", "currency": "ILS", "time_zone": "Asia/Jerusalem", "name": "Haifa Glass",
        "address": "", "tax_id": "", "bank_details": "", "language": "", "week_start": "6",
        "date_format": "d/m/Y"}  # fmt: skip


@pytest.fixture
def first_step(settings):
    settings.ACCORD_COMPANY_FIRST_STEP = True
    settings.ACCORD_PHONE_REGION = ""


def test_the_first_administrator_is_asked_where_the_company_works_once(first_step, admin):
    client = Client(headers={"Accept-Language": "he-IL"})
    assert log_in(client, admin.email)

    page = client.get("/")
    assert page.status_code == 302 and page["Location"].startswith("/welcome/")
    step = client.get(page["Location"])
    assert step.context["form"]["country"].value() == "IL"  # the browser's country first
    assert step.context["form"]["currency"].value() == "ILS"
    assert step.context["form"]["time_zone"].value() == "Asia/Jerusalem"  # its only zone
    assert b"data-browser-zone" not in step.content

    done = client.post(
        "/welcome/?next=/",
        {"country": "IL", "currency": "ILS", "time_zone": "Asia/Jerusalem", "next": "/"},
    )
    assert done.status_code == 302 and done["Location"] == "/"
    assert client.get("/").status_code == 200
    assert (default_region(), default_currency(), default_time_zone()) == (
        "IL", "ILS", "Asia/Jerusalem",
    )  # fmt: skip


def test_a_country_of_many_time_zones_leaves_the_zone_to_the_browser(first_step, admin):
    client = Client(headers={"Accept-Language": "ru-RU"})
    assert log_in(client, admin.email)
    step = client.get("/welcome/")
    assert step.context["form"]["currency"].value() == "RUB"
    assert step.context["form"]["time_zone"].value() == "UTC"
    assert b"data-browser-zone" in step.content  # app.js picks the browser's own zone


def test_the_step_refuses_a_country_it_does_not_know(first_step, admin):
    client = Client()
    assert log_in(client, admin.email)
    refused = client.post("/welcome/", {"country": "XX", "currency": "EUR", "time_zone": "UTC"})
    assert refused.status_code == 200
    assert refused.context["form"].errors["country"]
    assert CompanyProfile.current().set_up_at is None
    assert client.get("/").status_code == 302  # still asked


def test_a_manager_is_never_asked_and_cannot_open_the_company_settings(first_step, manager_client):
    assert manager_client.get("/").status_code == 200
    assert manager_client.get("/settings/company/").status_code == 404
    assert manager_client.post("/settings/company/", FORM).status_code == 404
    assert CompanyProfile.current().set_up_at is None


def test_the_company_country_reads_the_user_guides_phone_number(admin_client, api, settings):
    settings.ACCORD_PHONE_REGION = ""
    data = {"first_name": "Olga", "phones": [{"number": "8 (915) 123-45-67"}]}
    assert api.post_json("/api/v1/people", data).status_code == 422

    saved = admin_client.post("/settings/company/", {**FORM, "country": "RU", "currency": "RUB"})
    assert saved.status_code == 302
    created = api.post_json("/api/v1/people", data)
    assert created.status_code == 201
    assert created.json()["phones"][0]["number"] == "+79151234567"


def test_settings_keep_the_company_details_and_its_logo(admin_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    logo = SimpleUploadedFile("logo.png", PNG, content_type="image/png")
    saved = admin_client.post("/settings/company/", {**FORM, "logo": logo})
    assert saved.status_code == 302

    page = admin_client.get("/settings/company/")
    assert page.context["form"]["name"].value() == "Haifa Glass"
    assert page.context["form"]["week_start"].value() == 6
    served = admin_client.get("/settings/company/logo")
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == PNG
    profile = CompanyProfile.objects.get()
    assert (profile.date_format, profile.country, profile.currency) == ("d/m/Y", "IL", "ILS")


def test_a_logo_that_is_not_a_picture_is_refused_whatever_its_name(
    admin_client, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    fake = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png")
    refused = admin_client.post("/settings/company/", {**FORM, "logo": fake})
    assert refused.status_code == 200
    assert "PNG, JPEG or WebP" in refused.context["form"].errors["logo"][0]
    assert not CompanyProfile.objects.exists()  # nothing half-saved
    assert not list(tmp_path.rglob("*"))


def test_two_admins_do_not_overwrite_each_other(admin_client):
    admin_client.post("/settings/company/", FORM)
    stale = admin_client.post("/settings/company/", {**FORM, "name": "Other", "version": "0"})
    assert stale.status_code == 200
    assert "Someone else changed" in str(stale.context["form"].non_field_errors())
    assert CompanyProfile.objects.get().name == "Haifa Glass"


def test_a_browser_asking_for_no_language_we_speak_gets_the_companys(admin_client):
    admin_client.post("/settings/company/", {**FORM, "language": "ru"})
    stranger = Client(headers={"Accept-Language": "ja-JP"})
    assert "Войти" in stranger.get("/login/").content.decode()
    english = Client(headers={"Accept-Language": "en-US"})
    assert "Log in" in english.get("/login/").content.decode()


def test_new_deals_start_in_the_companys_currency(admin_client, api):
    admin_client.post("/settings/company/", FORM)
    assert admin_client.get("/deals/new/").context["form"]["currency"].value() == "ILS"
    assert Person.objects.count() == 0


def test_dates_follow_the_companys_date_format(admin_client, admin):
    admin_client.post("/settings/company/", {**FORM, "date_format": "Y-m-d"})
    admin.refresh_from_db()
    # The page shows the moment in the company's time zone: near midnight that is another day.
    shown = timezone.localtime(admin.last_login, ZoneInfo(FORM["time_zone"]))
    page = admin_client.get("/settings/users/").content.decode()
    assert shown.strftime("%Y-%m-%d") in page
    admin_client.post("/settings/company/", {**FORM, "date_format": ""})
    assert shown.strftime("%m/%d/%Y") in admin_client.get("/settings/users/").content.decode()
