"""A new user logs in with a demo account and finds the app shell."""

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from accord.accounts import demo
from accord.accounts.services import user_create
from accord.core.company import default_time_zone
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_company(transactional_db):
    demo.populate()


def log_in(page, email, password):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.parametrize(("width", "name"), [(1280, "desktop"), (390, "phone")])
def test_a_demo_manager_logs_in_and_sees_the_app_shell(open_page, demo_company, width, name):
    page = open_page(width=width, height=800)
    log_in(page, "manager@example.com", settings.ACCORD_DEMO_PASSWORD)

    expect(page.get_by_role("heading", level=1)).to_contain_text("Maria Ivanova")
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Today")).to_have_attribute("aria-current", "page")
    screenshot(page, f"today-{name}")

    page.get_by_title("Your account").click()
    expect(page.get_by_text("manager@example.com")).to_be_visible()
    page.get_by_role("menuitem", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()


def test_a_wrong_password_is_refused_with_a_message(open_page, demo_company):
    page = open_page()
    log_in(page, "manager@example.com", "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")
    expect(page.get_by_label("E-mail")).to_have_value("manager@example.com")
    screenshot(page, "login-error")


def test_a_new_companys_first_administrator_starts_in_their_own_time_zone(
    open_page, transactional_db, settings
):
    settings.ACCORD_COMPANY_FIRST_STEP, settings.ACCORD_PHONE_REGION = True, ""
    user_create(email="boss@firm.example", password="a-long-pass-phrase-2026",
                role="administrator", full_name="Irina Boss")  # fmt: skip
    page = open_page(width=375, height=800, locale="ru-RU", timezone="Asia/Yekaterinburg")
    page.goto("/login/")  # in Russian, the browser's language
    page.locator("input[name=username]").fill("boss@firm.example")
    page.locator("input[name=password]").fill("a-long-pass-phrase-2026")
    page.locator("button.button-primary[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/welcome/"))
    # Russia has many zones: the browser's own is chosen, the country and money from its language
    expect(page.locator("select[name=time_zone]")).to_have_value("Asia/Yekaterinburg")
    expect(page.locator("select[name=country]")).to_have_value("RU")
    expect(page.locator("select[name=currency]")).to_have_value("RUB")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "welcome-phone-ru")
    page.locator("button.button-primary[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Irina Boss")
    assert default_time_zone() == "Asia/Yekaterinburg"
