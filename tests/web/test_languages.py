"""Languages: every string translated, the user's language applied, Hebrew right-to-left."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.test import Client
from django.utils import formats, timezone, translation

from accord.accounts.services import user_update
from tests.conftest import log_in

LOCALE = Path(__file__).resolve().parents[2] / "accord" / "locale"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\{ ?\w+ ?\}\}")


@pytest.mark.parametrize("language", ["ru", "he", "hy"])
def test_every_interface_string_is_translated_with_its_placeholders(language):
    with open(LOCALE / language / "LC_MESSAGES" / "django.po", "rb") as file:
        catalog = read_po(file)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        wanted = sorted(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            if sorted(PLACEHOLDER.findall(string)) != wanted and len(strings) == 1:
                problems.append(f"placeholders differ: {ids[0]!r}")
            # Templates put translations into HTML attributes: a straight double quote
            # there would end the attribute (a placeholder cut short, a broken label).
            if '"' in string and '"' not in ids[0]:
                problems.append(f"straight double quote: {ids[0]!r}")
    assert problems == []
    assert len(catalog) > 100


@pytest.mark.parametrize(("language", "direction"), [("he", "rtl"), ("ru", "ltr"), ("hy", "ltr")])
def test_a_user_sees_accord_in_their_language(owner, language, direction):
    user_update(user=owner, actor=owner, language=language)
    client = Client()
    log_in(client, owner.email)
    page = client.get("/").content.decode()
    assert f'<html lang="{language}" dir="{direction}"' in page
    with translation.override(language):
        today = translation.gettext("Today")
    assert today != "Today"
    assert f'<span class="nav-label">{today}</span>' in page


def test_the_login_page_offers_every_language_in_its_own_name(client, db):
    page = client.get("/login/").content.decode()
    for name in ["English", "Русский", "עברית", "Հայերեն"]:
        assert name in page
    client.post("/i18n/setlang/", {"language": "ru", "next": "/login/"})
    assert '<html lang="ru"' in client.get("/login/").content.decode()


def test_going_back_to_the_browsers_language_forgets_the_earlier_choice(manager_client):
    profile = {"full_name": "Olivia Owner", "language": "ru", "time_zone": "", "theme": "system"}
    manager_client.post("/profile/", profile)
    assert '<html lang="ru"' in manager_client.get("/").content.decode()
    manager_client.post("/profile/", {**profile, "language": ""})
    english = manager_client.get("/", headers={"Accept-Language": "en-US"}).content.decode()
    assert '<html lang="en"' in english
    manager_client.logout()
    login = manager_client.get("/login/", headers={"Accept-Language": "en-US"}).content.decode()
    assert '<html lang="en"' in login


def test_russian_dates_say_the_month_as_russian_does_and_hebrew_groups_thousands(owner):
    user_update(user=owner, actor=owner, language="ru")
    client = Client()
    log_in(client, owner.email)
    today = client.get("/").content.decode()
    with translation.override("ru"):
        month = formats.date_format(timezone.localdate(), "E")  # "декабря", not "Декабрь"
    assert month in today and month.islower()
    with translation.override("he"):
        assert formats.number_format(1234567.5, 2, force_grouping=True) == "1,234,567.50"
