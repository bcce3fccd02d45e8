"""The step that asks a client for feedback: a link to a survey, for the deal's contact
(or the person), sent by e-mail or through an SMS gateway or messenger — the same ways
"Send an e-mail" and "Send an SMS or a messenger message" send, with the survey's
invitation and the link as the text."""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.automation.actions.registry import ACTIONS, Action, ActionError, Step, register
from accord.automation.records import whole_number
from accord.comms.models import Messenger
from accord.contacts.models import Person
from accord.marketing.models import Survey
from accord.marketing.services.surveys import invite_create
from accord.sales.models import Deal


def _survey(params: dict) -> Survey | None:
    return Survey.objects.filter(pk=whole_number(params.get("survey")) or 0, retired=False).first()


def _check(params: dict, subject: str) -> list[str]:
    problems = [] if _survey(params) else [_("Choose a survey in use.")]
    via = params.get("via") or ""
    if via and not Messenger.objects.filter(pk=whole_number(via) or 0, active=True).exists():
        problems.append(_("The channel to send through is gone or switched off."))
    return problems


def _run(step: Step, params: dict) -> str:
    survey = _survey(params)
    if survey is None:
        raise ActionError(_("Choose a survey in use."), final=True)
    deal = Deal.objects.filter(pk=step.record_id).first() if step.subject == "deal" else None
    person_id = deal.person_id if deal is not None else (
        step.record_id if step.subject == "person" else None)  # fmt: skip
    person = Person.objects.filter(pk=person_id or 0).first()
    if person is None:
        raise ActionError(_("There is no contact person to ask."), final=True)
    if step.dry_run:
        link = f"{settings.ACCORD_BASE_URL}/s/…/"
    else:
        key = f"automation:{step.made.get('run')}:{step.made.get('path')}"
        invite = invite_create(survey=survey, person=person, deal=deal, key=key)
        link = settings.ACCORD_BASE_URL.rstrip("/") + reverse("survey_public", args=[invite.token])
    text = f"{survey.invitation}\n\n{survey.question}\n{link}".strip()
    via = params.get("via") or ""
    if via:
        return ACTIONS["send_message"].run(step, {"messenger": via, "message": text})
    email = {"subject": survey.question, "body": text, "marketing": False}
    return ACTIONS["send_email"].run(step, email)


register(
    Action(
        "send_survey",
        gettext_lazy("Ask for feedback (a survey)"),
        ("person", "deal"),
        _check,
        _run,
        changes_record=False,
    )
)
