"""Feedback from clients: surveys (a score and a comment), a link per client that takes
one answer, and what an answer does — it lands on the client's timeline, is announced
(`survey.answered`, for automation), and a low score becomes a task for the head of the
rated manager's team (or the survey's author), due the next working hours."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accord.accounts.models import User
from accord.contacts.models import Person
from accord.core.events import emit
from accord.core.timeline import timeline_record
from accord.marketing.models import Survey, SurveyInvite
from accord.marketing.services.campaigns import may_write_campaign
from accord.sales.models import Deal
from accord.work.services import task_create

# The survey a new company starts with (the feedback blueprint makes it when none is there).
DEFAULT = {
    "name": gettext_noop("After a purchase"),
    "question": gettext_noop("How likely are you to recommend us to a friend or colleague?"),
    "comment_prompt": gettext_noop("What should we do better?"),
    "invitation": gettext_noop(
        "Thank you for your order! Would you answer one question? It takes ten seconds."
    ),
    "thanks_text": gettext_noop("Thank you! Your answer goes straight to the team."),
}


def _require(actor: User) -> None:
    if not may_write_campaign(actor):
        raise PermissionDenied(_("Your role does not run surveys."))


@transaction.atomic
def survey_save(*, actor: User, data: dict, survey: Survey | None = None) -> Survey:
    _require(actor)
    errors: dict[str, list[str]] = {}
    name = str(data.get("name") or "").strip()
    question = str(data.get("question") or "").strip()
    scale = data.get("scale") or (survey.scale if survey else Survey.NPS)
    if not name or len(name) > 200:
        errors["name"] = [_("Name the survey (at most 200 characters).")]
    if not question or len(question) > 300:
        errors["question"] = [_("Ask the question (at most 300 characters).")]
    if scale not in dict(Survey.SCALES):
        errors["scale"] = [_("Choose the scale.")]
    top = 10 if scale == Survey.NPS else 5
    low = data.get("low_score", survey.low_score if survey else (6 if top == 10 else 2))
    if not str(low).isdecimal() or int(low) > top:
        errors["low_score"] = [_("A score from 0 to %(top)s.") % {"top": top}]
    texts = {key: str(data.get(key) or "").strip() for key in
             ("comment_prompt", "invitation", "thanks_text")}  # fmt: skip
    for key, limit in (("comment_prompt", 300), ("invitation", 1000), ("thanks_text", 1000)):
        if len(texts[key]) > limit:
            errors[key] = [_("At most %(limit)s characters.") % {"limit": limit}]
    if survey is not None and scale != survey.scale and survey.invites.exists():
        errors["scale"] = [_("Clients have been asked on this scale: make a new survey.")]
    if errors:
        raise ValidationError(errors)
    if survey is None:
        survey = Survey(created_by=actor)
    else:
        survey.version += 1
    survey.name, survey.question, survey.scale, survey.low_score = name, question, scale, int(low)
    for key, value in texts.items():
        setattr(survey, key, value)
    survey.retired = bool(data.get("retired", survey.retired))
    survey.save()
    return survey


def default_survey(actor: User) -> Survey:
    """The company's survey after a purchase: the first in use, else a new one in the
    company's language."""
    found = Survey.objects.filter(retired=False).order_by("pk").first()
    if found is not None:
        return found
    # Made for whoever installs the feedback blueprint (a head of sales too): the
    # company's standard survey, not one a role writes.
    texts = {key: _(text) for key, text in DEFAULT.items()}
    return Survey.objects.create(created_by=actor, scale=Survey.NPS, low_score=6, **texts)


@transaction.atomic
def invite_create(
    *, survey: Survey, person: Person, deal: Deal | None = None, key: str | None = None
) -> SurveyInvite:
    """A client's link to the survey; asked again with the same `key` (a step run again
    after a crash), the first link."""
    if survey.retired:
        raise ValidationError({"survey": [_("The survey is switched off.")]})
    if key:
        found = SurveyInvite.objects.filter(key=key).first()
        if found is not None:
            return found
    rated = (deal.owner if deal is not None else None) or person.owner
    try:
        with transaction.atomic():
            return SurveyInvite.objects.create(
                survey=survey, person=person, deal=deal, rated=rated, key=key or None
            )
    except IntegrityError:  # the same key at the same moment: the other one's
        return SurveyInvite.objects.get(key=key)


def _head_of(invite: SurveyInvite) -> User | None:
    rated = invite.rated
    head = rated.team.head if rated is not None and rated.team_id else None
    if head is not None and head.is_active:
        return head
    author = invite.survey.created_by
    return author if author is not None and author.is_active else None


@transaction.atomic
def survey_answer(*, invite: SurveyInvite, score, comment: str = "") -> SurveyInvite:
    """The client's answer (once per link): checked, kept, on their timeline, announced;
    a low score is a task for the rated manager's head."""
    invite = SurveyInvite.objects.select_for_update().select_related("survey").get(pk=invite.pk)
    survey = invite.survey
    if invite.answered_at is not None:
        raise ValidationError({"score": [_("This link has been answered already. Thank you!")]})
    number = int(score) if str(score).strip().isdecimal() else None
    if number is None or not survey.lowest <= number <= survey.highest:
        wanted = _("Choose a score from %(low)s to %(high)s.") % {
            "low": survey.lowest, "high": survey.highest}  # fmt: skip
        raise ValidationError({"score": [wanted]})
    comment = str(comment or "").strip()
    if len(comment) > 2000:
        raise ValidationError({"comment": [_("At most 2,000 characters.")]})
    now = timezone.now()
    invite.score, invite.comment, invite.answered_at = number, comment, now
    data = {"survey": survey.name, "client": str(invite.person), "score": number,
            "top": survey.highest, "comment": comment, "deal_id": invite.deal_id}  # fmt: skip
    timeline_record(subject=invite.person, kind="survey", actor=None, data=data)
    if invite.deal_id:
        timeline_record(subject=invite.deal, kind="survey", actor=None, data=data)
    head = _head_of(invite) if number <= survey.low_score else None
    if head is not None:
        client = invite.person
        invite.task = task_create(actor=head, allow_absent=True, data={
            "title": _("%(client)s rated us %(score)s of %(top)s: call them")
            % {"client": client, "score": number, "top": survey.highest},
            "description": comment, "assignee": head, "person": client, "deal": invite.deal,
            "kind": "call", "due_at": now + timedelta(hours=4),
        })  # fmt: skip
    invite.save(update_fields=["score", "comment", "answered_at", "task"])
    emit("survey.answered", invite_id=invite.pk, person_id=invite.person_id,
         deal_id=invite.deal_id, score=number)  # fmt: skip
    return invite


def on_erased(event) -> None:
    """A client's personal data erased on their request: their comments go; the scores
    stay for the survey's figures."""
    SurveyInvite.objects.filter(person_id=event.payload["person_id"]).update(comment="")
