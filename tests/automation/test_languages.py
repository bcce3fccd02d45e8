"""Texts that automation writes reach each reader in their language: a step's variant
per language, chosen by the task's assignee, the notice's recipient, the deal's owner
(or the company's language for those who chose none); refused when a variant is broken;
kept through the rule form; and the blueprints ship a variant in every language."""

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation

from accord.accounts.services import user_create
from accord.automation.blueprints import install
from accord.core.services import company_profile_update
from accord.sales.services import deal_create
from accord.work.models import Notification, Task
from tests.automation.test_editor import form
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

CALL = {
    "type": "create_task",
    "params": {
        "title": "Call about {{ deal.title }}",
        "kind": "call",
        "assignee": {"to": "owner"},
        "due_in": {"amount": 15, "unit": "minutes"},
        "translations": {
            "ru": {"title": "Позвонить по сделке «{{ deal.title }}»"},
            "he": {"title": "להתקשר לגבי {{ deal.title }}"},
        },
    },
}
TELL = {
    "type": "notify",
    "params": {
        "to": {"to": "owner"},
        "message": "New: {{ deal.title }}",
        "translations": {"ru": {"message": "Новая сделка: {{ deal.title }}"}},
    },
}


def seller(email: str, language: str):
    return user_create(email=email, password=PASSWORD, role="manager", language=language)


def test_each_assignee_reads_the_task_and_the_notice_in_their_language(rule_for, stages):
    rule_for(actions=[CALL, TELL])
    ivan, ann = seller("ivan@example.com", "ru"), seller("ann@example.com", "en")
    deal_create(actor=ivan, data={"title": "Окна", "owner": ivan})
    deal_create(actor=ann, data={"title": "Windows", "owner": ann})
    assert Task.objects.get(assignee=ivan).title == "Позвонить по сделке «Окна»"
    assert Task.objects.get(assignee=ann).title == "Call about Windows"
    notices = Notification.objects.filter(kind=Notification.AUTOMATION)
    told = dict(notices.values_list("user__email", "data__message"))
    assert told == {"ivan@example.com": "Новая сделка: Окна", "ann@example.com": "New: Windows"}


def test_who_chose_no_language_reads_the_companys(rule_for, admin, stages):
    company_profile_update(actor=admin, language="he")
    rule_for(actions=[CALL, TELL])
    dana = seller("dana@example.com", "")
    deal_create(actor=dana, data={"title": "חלונות", "owner": dana})
    assert Task.objects.get(assignee=dana).title == "להתקשר לגבי חלונות"
    # No Hebrew variant of the notice: the text itself.
    notice = Notification.objects.get(user=dana, kind=Notification.AUTOMATION)
    assert notice.data["message"] == "New: חלונות"


@pytest.mark.parametrize(
    ("translations", "problem"),
    [
        ({"xx": {"title": "Hi"}}, "Accord speaks no language “xx”"),
        ({"ru": {"title": "Позвонить {{ deal.title }"}}, "Russian, title: Line 1"),
        ({"ru": {"message": "Не то"}}, "Russian, message: this step has no such text."),
        ({"ru": "Позвонить"}, "translations: an object of languages"),
    ],
)
def test_a_broken_variant_is_refused_with_where_it_is(rule_for, stages, translations, problem):
    step = {**CALL, "params": {**CALL["params"], "translations": translations}}
    with pytest.raises(ValidationError) as refused:
        rule_for(actions=[step])
    assert problem in str(refused.value)


def test_the_rule_form_keeps_each_languages_text(admin_client, stages):
    # A variant the same as the text itself is no variant (it would go stale).
    fields = {"s-0-title-ru": "Позвонить: {{ deal.title }}", "s-0-title-hy": "",
              "s-0-title-en": "Call {{ deal.title }}"}  # fmt: skip
    bad = form(**{**fields, "s-0-title-he": "להתקשר {{ deal.title }"})
    page = admin_client.post("/settings/automation/new", {**bad, "save": "1"}).content.decode()
    assert "Hebrew, title: Line 1" in page and "Позвонить: {{ deal.title }}" in page
    admin_client.post("/settings/automation/new", {**form(**fields), "save": "1"})
    from accord.automation.models import Rule

    rule = Rule.objects.get()
    assert rule.actions[0]["params"]["translations"] == {
        "ru": {"title": "Позвонить: {{ deal.title }}"}
    }
    page = admin_client.get(f"/settings/automation/{rule.pk}/edit").content.decode()
    assert 'name="s-0-title-ru"' in page and "Позвонить: {{ deal.title }}" in page
    with translation.override("ru"):
        shown = admin_client.get(f"/settings/automation/{rule.pk}/", HTTP_ACCEPT_LANGUAGE="ru")
    assert "Позвонить: {{ deal.title }}" in shown.content.decode()


def test_a_blueprint_writes_every_text_in_every_language(admin):
    with translation.override("ru"):
        rules = install(actor=admin, name="window-shop")
    names = [rule.name for rule in rules]
    assert names[2] == "Оконный магазин 1: звонок по каждой заявке в течение 15 минут"
    call = rules[2].actions[0]["params"]
    # The text is the installer's language; a variant for each other language.
    assert set(call["translations"]) == {code for code, _name in settings.LANGUAGES} - {"ru"}
    titles = {code: texts["title"] for code, texts in call["translations"].items()}
    titles["ru"] = call["title"]
    assert titles["en"] == "Call {{ client.name }} about “{{ deal.title }}”"
    assert len(set(titles.values())) == 4  # each language its own words
    assert all("{{ client.name }}" in title for title in titles.values())
