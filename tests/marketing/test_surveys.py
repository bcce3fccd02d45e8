"""Feedback: a survey link per client (one answer), answered on a page without login in
the client's language; the answer on the timeline, a low score a task for the head, the
figures (average, NPS) on the survey's page and in the reports; the feedback blueprint
asks a day after a sale, by e-mail."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from accord.accounts.services import team_save, user_create
from accord.automation import scheduler
from accord.automation.blueprints import install
from accord.automation.services import rule_enable
from accord.comms.models import Message
from accord.contacts.services import person_create
from accord.core.models import TimelineEvent
from accord.marketing.models import Survey, SurveyInvite
from accord.marketing.queries import survey_figures
from accord.marketing.services.surveys import invite_create, survey_answer, survey_save
from accord.reports.catalog import REPORTS
from accord.reports.periods import Period
from accord.reports.queries import scope_for
from accord.sales.services import deal_create, deal_win
from accord.work.models import Task
from tests.conftest import PASSWORD, log_in


@pytest.fixture
def head(admin, owner):
    boss = user_create(email="hugo@example.com", password=PASSWORD, role="head-of-sales",
                       full_name="Hugo Head")  # fmt: skip
    team_save(actor=admin, name="Sales", head=boss, members=[owner])
    return boss


@pytest.fixture
def survey(admin):
    data = {
        "name": "After a purchase",
        "scale": "nps",
        "question": "Would you recommend us?",
        "low_score": 6,
        "comment_prompt": "What should we do better?",
    }
    return survey_save(actor=admin, data=data)


def client_of(owner, name="Anna Petrova", **data):
    first, _space, last = name.partition(" ")
    data.setdefault("emails", ["anna@example.com"])
    return person_create(actor=owner, data={"first_name": first, "last_name": last, **data})


def test_a_survey_is_checked_and_run_by_marketing(admin, owner, survey):
    with pytest.raises(ValidationError) as refused:
        survey_save(
            actor=admin, data={"name": "", "question": "?", "scale": "stars", "low_score": 7}
        )
    assert set(refused.value.message_dict) == {"name", "low_score"}
    with pytest.raises(PermissionDenied):
        survey_save(actor=owner, data={"name": "Mine", "question": "How was it?"})
    person = client_of(owner)
    invite_create(survey=survey, person=person)
    with pytest.raises(ValidationError, match="asked on this scale"):
        survey_save(
            actor=admin, survey=survey, data={"name": "X", "question": "Q", "scale": "stars"}
        )


def test_a_client_answers_once_and_a_low_score_is_a_task_for_the_head(owner, head, survey):
    person = client_of(owner)
    deal = deal_create(actor=owner, data={"title": "Windows", "person": person})
    invite = invite_create(survey=survey, person=person, deal=deal, key="run:1")
    assert invite_create(survey=survey, person=person, deal=deal, key="run:1") == invite
    assert invite.rated == owner and len(invite.token) >= 32
    with pytest.raises(ValidationError):
        survey_answer(invite=invite, score="11")
    survey_answer(invite=invite, score="3", comment="The installer came late.")
    with pytest.raises(ValidationError, match="answered already"):
        survey_answer(invite=invite, score="10")
    task = Task.objects.get(assignee=head)
    assert task.title == "Anna Petrova rated us 3 of 10: call them"
    assert (task.person, task.deal, task.description) == (person, deal, "The installer came late.")
    events = TimelineEvent.objects.filter(kind="survey")  # on the client's and the deal's
    assert {e.subject_type.model for e in events} == {"person", "deal"}
    assert {(e.data["score"], e.data["comment"]) for e in events} == {
        (3, "The installer came late.")
    }
    good = invite_create(
        survey=survey, person=client_of(owner, "Ben Berg", emails=["ben@example.com"])
    )
    survey_answer(invite=good, score=10)
    assert Task.objects.filter(assignee=head).count() == 1  # a good score asks nothing
    figures = survey_figures(owner, [survey])[survey.pk]
    assert (figures.answered, figures.average, figures.nps, figures.low) == (2, 6.5, 0, 1)
    period = Period(timezone.localdate() - timedelta(days=1), timezone.localdate())
    report = REPORTS["feedback"].compute(scope_for(head, period=period))
    assert report.total == 0 and report.rows[0]["answers"] == 2 and report.rows[0]["low"] == 1


def test_the_public_page_speaks_the_client_s_language_and_takes_one_answer(owner, survey):
    person = client_of(owner, language="ru")
    invite = invite_create(survey=survey, person=person)
    page = Client().get(f"/s/{invite.token}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Would you recommend us?" in text and 'name="score" value="10"' in text
    assert "Отправить" in text  # the page's own words in Russian
    wrong = Client().post(f"/s/{invite.token}/", {"score": "12"})
    assert wrong.status_code == 422
    Client().post(f"/s/{invite.token}/", {"score": "9", "comment": "Спасибо"})
    invite.refresh_from_db()
    assert (invite.score, invite.comment) == (9, "Спасибо")
    again = Client().post(f"/s/{invite.token}/", {"score": "0"}).content.decode()
    assert "Спасибо!" in again
    invite.refresh_from_db()
    assert invite.score == 9
    assert Client().get("/s/not-a-token/").status_code == 404


def test_a_browser_answers_with_its_csrf_token(owner, survey):
    browser = Client(enforce_csrf_checks=True)  # as a real browser is held to it
    invite = invite_create(survey=survey, person=client_of(owner))
    page = browser.get(f"/s/{invite.token}/").content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    sent = browser.post(f"/s/{invite.token}/", {"score": "10", "csrfmiddlewaretoken": token})
    assert sent.status_code == 200
    invite.refresh_from_db()
    assert invite.score == 10


@pytest.mark.django_db(transaction=True)  # the rules run after the commit
def test_the_feedback_blueprint_asks_by_e_mail_a_day_after_the_sale(admin, owner, settings):
    settings.EMAIL_ENABLED = True
    rules = install(actor=admin, name="feedback")
    for rule in rules:
        rule_enable(actor=admin, rule=rule, enabled=True)
    person = client_of(owner)
    deal = deal_create(actor=owner, data={"title": "Windows", "person": person})
    deal_win(actor=owner, deal=deal)
    assert not SurveyInvite.objects.exists()  # it waits a day
    scheduler.tick(timezone.now() + timedelta(days=1, minutes=1))
    invite = SurveyInvite.objects.get()
    assert (invite.person, invite.deal, invite.survey) == (person, deal, Survey.objects.get())
    mail = Message.objects.get(person=person)
    assert invite.token in mail.text and mail.subject == Survey.objects.get().question


def test_marketing_sees_the_answers_of_the_clients_it_may_see(admin, owner, survey):
    person = client_of(owner)
    survey_answer(invite=invite_create(survey=survey, person=person), score=8, comment="Good")
    client = Client()
    assert log_in(client, admin.email)
    page = client.get(f"/marketing/surveys/{survey.pk}/").content.decode()
    assert "Anna Petrova" in page and "Good" in page
    assert "After a purchase" in client.get("/marketing/surveys/").content.decode()


def test_the_api_lists_surveys_and_their_answers(api, owner, survey):
    survey_answer(invite=invite_create(survey=survey, person=client_of(owner)), score=10)
    listed = api.get("/api/v1/surveys").json()
    assert [(s["name"], s["answered"], s["nps"]) for s in listed] == [("After a purchase", 1, 100)]
    answers = api.get(f"/api/v1/surveys/{survey.pk}/answers").json()
    assert [a["score"] for a in answers["items"]] == [10]
    assert api.get("/api/v1/surveys/999999/answers").status_code == 404
