"""API: the channels clients come by, the campaigns run in them with what each cost (the
expenses that name it), and the web forms with the requests they brought."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from accord.accounts.models import Team
from accord.billing.api.schemas import Amount, Id, no_nulls, ref
from accord.comms.models import Messenger
from accord.core.api.concurrency import ANSWERS_ETAG, CREATES, TAKES_IF_MATCH, etag_of, if_match
from accord.core.api.pagination import ListParams, Page, paginate
from accord.core.api.problems import invalid, one_of
from accord.core.api.schemas import RecordId, WithId
from accord.marketing.models import Campaign, Channel, LeadLine, WebForm
from accord.marketing.queries import (
    campaign_spent,
    campaigns_visible_to,
    channels_in_use,
    submissions_visible_to,
    survey_answers,
    survey_figures,
    surveys_visible_to,
)
from accord.marketing.services import RECORD_TYPE, campaign_save, channel_save, form_save
from accord.marketing.services.lines import lead_line_delete, lead_line_save
from accord.sales.models import Pipeline

router = Router(tags=["marketing"])


class ChannelOut(WithId):
    name: str
    kind: str = Field(description="site, ads, social, referral, walk_in, phone, email, "
                      "messenger or other")  # fmt: skip
    code: str = Field(description="What a link's utm_source says for it")
    retired: bool

    @staticmethod
    def resolve_name(channel) -> str:
        return str(channel)


class ChannelIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    kind: str = Field("other", max_length=12)
    code: str = Field("", max_length=40, description="Made from the name if empty")
    retired: bool = False


class ChannelPatch(Schema):
    name: str = Field(None, min_length=1, max_length=100)
    kind: str = Field(None, max_length=12)
    code: str = Field(None, max_length=40)
    retired: bool = Field(None)


class SpentOut(Schema):
    currency: str
    amount: Decimal


class CampaignOut(WithId):
    name: str
    channel: str
    channel_name: str
    code: str = Field(description="utm_campaign of its links")
    budget: Decimal | None
    currency: str
    starts_on: date | None
    ends_on: date | None
    note: str
    owner: str | None
    retired: bool = Field(description="Finished")
    spent: list[SpentOut] = Field(description="The expenses naming it, per currency")
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_channel(campaign) -> str:
        return str(campaign.channel_id)

    @staticmethod
    def resolve_channel_name(campaign) -> str:
        return str(campaign.channel)

    @staticmethod
    def resolve_owner(campaign) -> str | None:
        return ref(campaign.owner_id)

    @staticmethod
    def resolve_spent(campaign) -> list[dict]:
        spent = getattr(campaign, "spent", {})
        return [{"currency": code, "amount": total} for code, total in sorted(spent.items())]


class CampaignIn(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    channel: Id | None = None
    code: str | None = Field(None, max_length=60)
    budget: Amount | None = None
    currency: str | None = Field(None, max_length=3)
    starts_on: date | None = None
    ends_on: date | None = None
    note: str | None = Field(None, max_length=2000)
    retired: bool | None = None


class CampaignCreate(CampaignIn):
    name: str = Field(min_length=1, max_length=200)
    channel: Id
    currency: str = Field(max_length=3)


class CampaignFilters(Schema):
    channel: RecordId | None = None
    finished: bool | None = Field(None, description="true: the finished ones only")


def _campaign_data(data: dict) -> dict:
    no_nulls(data, ("name", "channel", "currency", "retired"))
    if data.get("channel") is not None:
        data["channel"] = one_of(channels_in_use(), data["channel"], "channel")
    for field in ("code", "note"):
        if field in data and data[field] is None:
            data[field] = ""
    return data


def _with_spent(request, campaigns: list[Campaign]) -> list[Campaign]:
    spent = campaign_spent(campaigns)
    for campaign in campaigns:
        campaign.spent = spent.get(campaign.pk, {})
    return campaigns


def _answer(request, response: HttpResponse, campaign: Campaign) -> Campaign:
    campaign = campaigns_visible_to(request.auth).get(pk=campaign.pk)
    response["ETag"] = etag_of(campaign)
    return _with_spent(request, [campaign])[0]


@router.get("/channels", response=list[ChannelOut], summary="Channels clients come by")
def channels_list(request):
    return list(Channel.objects.all())


@router.post("/channels", response={201: ChannelOut}, summary="Add a channel (administrators)")
def channels_create(request, payload: ChannelIn):
    try:
        channel = channel_save(actor=request.auth, data=payload.dict())
    except ValidationError as error:
        raise invalid(error) from None
    return Status(201, channel)


@router.patch("/channels/{channel_id}", response=ChannelOut, summary="Rename or retire a channel")
def channels_update(request, channel_id: RecordId, payload: ChannelPatch):
    channel = get_object_or_404(Channel, pk=channel_id)
    data = {"name": channel.name, "kind": channel.kind, "code": channel.code}
    try:
        return channel_save(
            actor=request.auth, data={**data, **payload.dict(exclude_unset=True)}, channel=channel
        )
    except ValidationError as error:
        raise invalid(error) from None


class LeadLineOut(WithId):
    number: str = Field(description="A phone number of ours (E.164), or empty for a bot")
    messenger: str | None = Field(description="The messenger bot's id, or null for a number")
    channel: str
    campaign: str | None

    @staticmethod
    def resolve_messenger(line) -> str | None:
        return ref(line.messenger_id)

    @staticmethod
    def resolve_channel(line) -> str:
        return str(line.channel_id)

    @staticmethod
    def resolve_campaign(line) -> str | None:
        return ref(line.campaign_id)


class LeadLineIn(Schema):
    number: str = Field("", max_length=40, description="In any format; or give a messenger")
    messenger: Id | None = None
    channel: Id
    campaign: Id | None = None


@router.get("/lead-lines", response=list[LeadLineOut],
            summary="Numbers and bots, and the channel their new clients count under")  # fmt: skip
def lead_lines_list(request):
    if request.auth.access_level(RECORD_TYPE, "read") == "none":
        return []
    return list(LeadLine.objects.all())


@router.post("/lead-lines", response={201: LeadLineOut},
             summary="Tie a number or a bot to a channel (administrators)")  # fmt: skip
def lead_lines_create(request, payload: LeadLineIn):
    data = {
        "number": payload.number,
        "messenger": one_of(Messenger.objects.all(), payload.messenger, "messenger"),
        "channel": one_of(Channel.objects.all(), payload.channel, "channel"),
        "campaign": one_of(Campaign.objects.all(), payload.campaign, "campaign"),
    }
    try:
        return Status(201, lead_line_save(actor=request.auth, data=data))
    except ValidationError as error:
        raise invalid(error) from None


@router.delete("/lead-lines/{line_id}", response={204: None},
               summary="A number or bot no longer counts under its channel")  # fmt: skip
def lead_lines_delete(request, line_id: RecordId):
    lead_line_delete(actor=request.auth, line=get_object_or_404(LeadLine, pk=line_id))
    return Status(204, None)


@router.get("/campaigns", response=Page[CampaignOut], summary="Campaigns, with what each cost")
def campaigns_list(request, params: Query[ListParams], filters: Query[CampaignFilters]):
    campaigns = campaigns_visible_to(request.auth)
    if filters.channel is not None:
        campaigns = campaigns.filter(channel_id=filters.channel)
    if filters.finished is not None:
        campaigns = campaigns.filter(retired=filters.finished)
    page = paginate(campaigns, params, sorts={"created_at", "name"}, default_sort="-created_at")
    _with_spent(request, page["items"])
    return page


@router.post(
    "/campaigns", response={201: CampaignOut}, summary="Start a campaign", openapi_extra=CREATES
)
def campaigns_create(request, response: HttpResponse, payload: CampaignCreate):
    data = _campaign_data(payload.dict(exclude_unset=True))
    try:
        campaign = campaign_save(actor=request.auth, data=data)
    except ValidationError as error:
        raise invalid(error) from None
    response["Location"] = f"/api/v1/campaigns/{campaign.pk}"
    return Status(201, _answer(request, response, campaign))


@router.get(
    "/campaigns/{campaign_id}",
    response=CampaignOut,
    summary="One campaign",
    openapi_extra=ANSWERS_ETAG,
)
def campaigns_detail(request, response: HttpResponse, campaign_id: RecordId):
    campaign = get_object_or_404(campaigns_visible_to(request.auth), pk=campaign_id)
    return _answer(request, response, campaign)


@router.patch(
    "/campaigns/{campaign_id}",
    response=CampaignOut,
    summary="Change a campaign (send If-Match); finish it with retired: true",
    openapi_extra=TAKES_IF_MATCH,
)
def campaigns_update(request, response: HttpResponse, campaign_id: RecordId, payload: CampaignIn):
    get_object_or_404(campaigns_visible_to(request.auth), pk=campaign_id)
    data = _campaign_data(payload.dict(exclude_unset=True))
    campaign = if_match(
        request,
        campaigns_visible_to(request.auth),
        campaign_id,
        lambda campaign: campaign_save(actor=request.auth, data=data, campaign=campaign),
    )
    return _answer(request, response, campaign)


# --- Web forms ---------------------------------------------------------------------------


class FormFieldIn(Schema):
    key: str = Field(max_length=60, description="name, first_name, last_name, email, phone, "
                     "company, city, message, or cf.<key> of a person's custom field")  # fmt: skip
    required: bool = False


class WebFormOut(WithId):
    name: str
    fields: list[FormFieldIn]
    consent_text: str
    consent_required: bool
    double_opt_in: bool = Field(description="The consent is recorded once the visitor "
                                "clicks the link e-mailed to them")  # fmt: skip
    thanks_text: str
    redirect_url: str
    allowed_sites: list[str]
    channel: str | None
    campaign: str | None
    team: str | None
    pipeline: str | None
    creates_deal: bool
    retired: bool
    received: int
    refused_as_spam: int
    address: str = Field(description="The form's own page, which its requests are posted to")
    version: int

    @staticmethod
    def resolve_allowed_sites(form) -> list[str]:
        return form.allowed_sites.split()

    @staticmethod
    def resolve_channel(form) -> str | None:
        return ref(form.channel_id)

    @staticmethod
    def resolve_campaign(form) -> str | None:
        return ref(form.campaign_id)

    @staticmethod
    def resolve_team(form) -> str | None:
        return ref(form.team_id)

    @staticmethod
    def resolve_pipeline(form) -> str | None:
        return ref(form.pipeline_id)

    @staticmethod
    def resolve_address(form) -> str:
        return f"{settings.ACCORD_BASE_URL.rstrip('/')}/f/{form.token}/"


class WebFormIn(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    fields: list[FormFieldIn] | None = Field(None, max_length=40)
    consent_text: str | None = Field(None, max_length=2000)
    consent_required: bool | None = None
    double_opt_in: bool | None = None
    thanks_text: str | None = Field(None, max_length=2000)
    redirect_url: str | None = Field(None, max_length=500)
    allowed_sites: list[Annotated[str, Field(max_length=200)]] | None = Field(None, max_length=50)
    channel: Id | None = None
    campaign: Id | None = None
    team: Id | None = None
    pipeline: Id | None = None
    creates_deal: bool | None = None
    retired: bool | None = None


class WebFormCreate(WebFormIn):
    name: str = Field(min_length=1, max_length=200)
    fields: list[FormFieldIn] = Field(max_length=40)


class SubmissionOut(WithId):
    state: str = Field(description="pending (kept, waiting for the worker to file it) or done")
    person: str | None
    deal: str | None
    values: dict
    came_from: dict
    problem: str = Field(description="why it made no client, when it made none")
    created_at: datetime

    @staticmethod
    def resolve_person(submission) -> str | None:
        return ref(submission.person_id)

    @staticmethod
    def resolve_deal(submission) -> str | None:
        return ref(submission.deal_id)


def _form_data(request, data: dict, form: WebForm | None) -> dict:
    """The PATCH's fields over the form's own, as the service takes a whole form."""
    whole = {} if form is None else {
        "name": form.name, "fields": form.fields, "consent_text": form.consent_text,
        "consent_required": form.consent_required, "double_opt_in": form.double_opt_in,
        "thanks_text": form.thanks_text,
        "redirect_url": form.redirect_url, "allowed_sites": form.allowed_sites,
        "channel": form.channel, "campaign": form.campaign, "team": form.team,
        "pipeline": form.pipeline, "creates_deal": form.creates_deal, "retired": form.retired,
    }  # fmt: skip
    no_nulls(data, ("name", "fields"))
    lookups = {
        "channel": channels_in_use(),
        "campaign": campaigns_visible_to(request.auth),
        "team": Team.objects.all(),
        "pipeline": Pipeline.objects.filter(retired=False),
    }
    for key, queryset in lookups.items():
        if key in data:
            data[key] = one_of(queryset, data[key], key)
    if "allowed_sites" in data:
        data["allowed_sites"] = "\n".join(data["allowed_sites"] or [])
    for key in ("consent_text", "thanks_text", "redirect_url"):
        if key in data and data[key] is None:
            data[key] = ""
    return {**whole, **data}


def _visible_forms(request):
    if request.auth.access_level(RECORD_TYPE, "read") == "none":
        return WebForm.objects.none()
    return WebForm.objects.all()


@router.get("/forms", response=list[WebFormOut], summary="Web forms")
def forms_list(request):
    return list(_visible_forms(request))


@router.post("/forms", response={201: WebFormOut}, summary="Make a web form",
             openapi_extra=CREATES)  # fmt: skip
def forms_create(request, response: HttpResponse, payload: WebFormCreate):
    data = _form_data(request, payload.dict(exclude_unset=True), None)
    try:
        form = form_save(actor=request.auth, data=data)
    except ValidationError as error:
        raise invalid(error) from None
    response["Location"] = f"/api/v1/forms/{form.pk}"
    response["ETag"] = etag_of(form)
    return Status(201, form)


@router.get("/forms/{form_id}", response=WebFormOut, summary="One web form",
            openapi_extra=ANSWERS_ETAG)  # fmt: skip
def forms_detail(request, response: HttpResponse, form_id: RecordId):
    form = get_object_or_404(_visible_forms(request), pk=form_id)
    response["ETag"] = etag_of(form)
    return form


@router.patch("/forms/{form_id}", response=WebFormOut,
              summary="Change a web form (send If-Match); switch it off with retired: true",
              openapi_extra=TAKES_IF_MATCH)  # fmt: skip
def forms_update(request, response: HttpResponse, form_id: RecordId, payload: WebFormIn):
    get_object_or_404(_visible_forms(request), pk=form_id)
    changes = payload.dict(exclude_unset=True)
    form = if_match(
        request,
        _visible_forms(request),
        form_id,
        lambda form: form_save(
            actor=request.auth, data=_form_data(request, dict(changes), form), form=form
        ),
    )
    response["ETag"] = etag_of(form)
    return form


@router.get(
    "/forms/{form_id}/submissions",
    response=Page[SubmissionOut],
    summary="The requests a web form brought, newest first",
)
def forms_submissions(request, form_id: RecordId, params: Query[ListParams]):
    form = get_object_or_404(_visible_forms(request), pk=form_id)
    return paginate(submissions_visible_to(request.auth, form), params, sorts={"created_at"},
                    default_sort="-created_at")  # fmt: skip


class SurveyOut(WithId):
    name: str
    scale: str = Field(description="nps (0–10) or stars (1–5)")
    question: str
    low_score: int
    retired: bool
    asked: int
    answered: int
    average: float | None
    nps: int | None = Field(description="Promoters less detractors, −100 to 100")

    @staticmethod
    def resolve_asked(survey) -> int:
        return survey.figures.asked

    @staticmethod
    def resolve_answered(survey) -> int:
        return survey.figures.answered

    @staticmethod
    def resolve_average(survey) -> float | None:
        return survey.figures.average

    @staticmethod
    def resolve_nps(survey) -> int | None:
        return survey.figures.nps


@router.get("/surveys", response=list[SurveyOut], summary="Feedback surveys, with their figures")
def surveys_list(request):
    rows = list(surveys_visible_to(request.auth))
    figures = survey_figures(request.auth, rows)
    for survey in rows:
        survey.figures = figures[survey.pk]
    return rows


class AnswerOut(WithId):
    person: str | None
    deal: str | None
    rated: str | None = Field(description="The manager the answer rates")
    score: int
    comment: str
    answered_at: datetime

    @staticmethod
    def resolve_person(invite) -> str | None:
        return ref(invite.person_id)

    @staticmethod
    def resolve_deal(invite) -> str | None:
        return ref(invite.deal_id)

    @staticmethod
    def resolve_rated(invite) -> str | None:
        return ref(invite.rated_id)


@router.get(
    "/surveys/{survey_id}/answers",
    response=Page[AnswerOut],
    summary="A survey's answers from the clients you may see, newest first",
)
def surveys_answers(request, survey_id: RecordId, params: Query[ListParams]):
    survey = get_object_or_404(surveys_visible_to(request.auth), pk=survey_id)
    return paginate(survey_answers(request.auth, survey), params, sorts={"answered_at"},
                    default_sort="-answered_at")  # fmt: skip
