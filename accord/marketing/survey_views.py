"""Surveys: the page a client answers through their link (no login; one answer per link),
and marketing's pages — the surveys, each one's answers (the clients the reader may see),
its score and its comments."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _

from accord.core.company import default_language
from accord.core.ui.forms import apply_errors
from accord.marketing.forms import SurveyForm
from accord.marketing.models import SurveyInvite
from accord.marketing.queries import survey_answers, survey_figures, surveys_visible_to
from accord.marketing.services import RECORD_TYPE, may_write_campaign
from accord.marketing.services.surveys import survey_answer, survey_save


def survey_public(request, token: str):
    """The client's page: the question, the score, a comment; thanked after. In the
    client's language (else the company's)."""
    invite = SurveyInvite.objects.select_related("survey", "person").filter(token=token).first()
    if invite is None or invite.survey.retired:
        raise Http404
    language = invite.person.language or default_language()
    with translation.override(language):
        errors: dict = {}
        if request.method == "POST" and invite.answered_at is None:
            try:
                invite = survey_answer(invite=invite, score=request.POST.get("score", ""),
                                       comment=request.POST.get("comment", ""))  # fmt: skip
            except ValidationError as error:
                errors = error.message_dict
        survey = invite.survey
        return render(request, "marketing/public_survey.html", {
            "survey": survey, "invite": invite, "errors": errors,
            "scores": range(survey.lowest, survey.highest + 1),
            "chosen": request.POST.get("score", ""), "comment": request.POST.get("comment", ""),
            "language": language, "rtl": translation.get_language_bidi(),
        }, status=422 if errors else 200)  # fmt: skip


def _may_read(user) -> None:
    if user.access_level(RECORD_TYPE, "read") == "none":
        raise Http404


@login_required
def surveys(request):
    _may_read(request.user)
    rows = list(surveys_visible_to(request.user))
    figures = survey_figures(request.user, rows)
    for survey in rows:
        survey.figures = figures[survey.pk]
    return render(request, "marketing/surveys.html", {
        "surveys": rows, "may_write": may_write_campaign(request.user),
    })  # fmt: skip


@login_required
def survey_page(request, survey_id: int):
    _may_read(request.user)
    survey = get_object_or_404(surveys_visible_to(request.user), pk=survey_id)
    return render(request, "marketing/survey.html", {
        "survey": survey, "figures": survey_figures(request.user, [survey])[survey.pk],
        "answers": survey_answers(request.user, survey)[:200],
        "may_write": may_write_campaign(request.user),
    })  # fmt: skip


@login_required
def survey_edit(request, survey_id: int | None = None):
    _may_read(request.user)
    if not may_write_campaign(request.user):
        raise Http404
    found = None
    if survey_id is not None:
        found = get_object_or_404(surveys_visible_to(request.user), pk=survey_id)
    initial = {"scale": "nps", "low_score": 6}
    if found is not None:
        initial = {name: getattr(found, name) for name in SurveyForm.base_fields}
    form = SurveyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = survey_save(actor=request.user, data=form.cleaned_data, survey=found)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("survey", survey_id=saved.pk)
    return render(request, "marketing/survey_form.html", {"survey": found, "form": form})
