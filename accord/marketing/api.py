"""API: the channels clients come by, and the campaigns run in them with what each cost
(the expenses that name it)."""

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from accord.billing.api.schemas import Amount, Id, no_nulls, ref
from accord.core.api.concurrency import ANSWERS_ETAG, CREATES, TAKES_IF_MATCH, etag_of, if_match
from accord.core.api.pagination import ListParams, Page, paginate
from accord.core.api.problems import invalid, one_of
from accord.core.api.schemas import RecordId, WithId
from accord.marketing.models import Campaign, Channel
from accord.marketing.queries import campaign_spent, campaigns_visible_to, channels_in_use
from accord.marketing.services import campaign_save, channel_save

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
def channels_update(request, channel_id: RecordId, payload: ChannelIn):
    channel = get_object_or_404(Channel, pk=channel_id)
    try:
        return channel_save(actor=request.auth, data=payload.dict(), channel=channel)
    except ValidationError as error:
        raise invalid(error) from None


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
