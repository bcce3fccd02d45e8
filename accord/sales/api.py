"""API: pipelines and stages, deals (CRUD, move, win, lose), line items, a product's price
on a deal (the catalogue itself: catalog_api)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from accord.accounts.queries import users_visible_to
from accord.catalog.models import Product
from accord.contacts.queries import companies_visible_to, people_visible_to
from accord.core.api.concurrency import ANSWERS_ETAG, CREATES, TAKES_IF_MATCH, etag_of, run_if_match
from accord.core.api.pagination import ListParams, Page, paginate
from accord.core.api.problems import Problem, invalid, one_of
from accord.core.api.schemas import EventOut, RecordId, WithId
from accord.core.limits import LIST_ITEMS, MAX_TAGS
from accord.core.timeline import timeline_of
from accord.sales.models import LineItem, LostReason, Stage
from accord.sales.pricing import quote
from accord.sales.queries import deals_visible_to, pipelines_for
from accord.sales.services.deals import (
    deal_create,
    deal_lose,
    deal_move,
    deal_note_add,
    deal_reopen,
    deal_update,
    deal_win,
)
from accord.sales.services.lines import line_item_delete, line_item_save
from accord.sales.services.pipelines import pipeline_create

router = Router(tags=["sales"])
DEAL_SORTS = {"title", "created_at", "updated_at", "amount"}
DEAL_FILTERS = {"pipeline", "stage", "status", "owner", "person", "company", "tag"}


def ref(value) -> str | None:
    return str(value.pk) if value is not None else None


class StageOut(WithId):
    name: str
    kind: str
    position: int
    color: str
    probability: int
    rotting_days: int | None

    @staticmethod
    def resolve_name(stage) -> str:
        return str(stage)


class PipelineOut(WithId):
    name: str
    stages: list[StageOut]

    @staticmethod
    def resolve_name(pipeline) -> str:
        return str(pipeline)

    @staticmethod
    def resolve_stages(pipeline) -> list:
        return [s for s in pipeline.stages.all() if not s.retired]


class StageIn(Schema):
    name: str
    kind: str = "open"
    color: str = "#3b5bdb"
    probability: int = 10
    rotting_days: int | None = None


class PipelineIn(Schema):
    name: str
    stages: Annotated[list[StageIn], Field(max_length=LIST_ITEMS)]


class LineItemOut(WithId):
    product: str | None
    name: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_percent: Decimal
    tax_percent: Decimal
    tax_included: bool
    total: Decimal
    pricing: str = Field(description="Where the price and discount came from, if not typed")

    @staticmethod
    def resolve_product(item) -> str | None:
        return str(item.product_id) if item.product_id else None


class LineItemIn(Schema):
    product: str | None = None
    name: str | None = None
    quantity: str = "1"
    unit: str | None = None
    unit_price: str | None = Field(None, description="Omitted: the product's price for the deal")
    discount_percent: str | None = Field(
        None, description="Omitted: the client's personal discount, if they have earned one"
    )
    tax_percent: str | None = Field(None, description="Omitted: the product's own tax")
    tax_included: bool | None = Field(None, description="Omitted: as the product says")


class DealOut(WithId):
    title: str
    pipeline: str
    stage: str
    status: str
    amount: Decimal
    currency: str
    person: str | None
    company: str | None
    owner: str | None
    expected_close_date: date | None
    source: str
    is_preorder: bool
    tags: list[str]
    custom_fields: dict[str, Any]
    lost_reason: str | None
    lost_note: str
    closed_at: datetime | None
    stage_entered_at: datetime
    line_items: list[LineItemOut]
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_pipeline(deal) -> str:
        return str(deal.pipeline_id)

    @staticmethod
    def resolve_stage(deal) -> str:
        return str(deal.stage_id)

    @staticmethod
    def resolve_person(deal) -> str | None:
        return str(deal.person_id) if deal.person_id else None

    @staticmethod
    def resolve_company(deal) -> str | None:
        return str(deal.company_id) if deal.company_id else None

    @staticmethod
    def resolve_owner(deal) -> str | None:
        return str(deal.owner_id) if deal.owner_id else None

    @staticmethod
    def resolve_lost_reason(deal) -> str | None:
        return str(deal.lost_reason) if deal.lost_reason_id else None

    @staticmethod
    def resolve_tags(deal) -> list[str]:
        return [tag.name for tag in deal.tags.all()]

    @staticmethod
    def resolve_line_items(deal) -> list:
        return list(deal.line_items.all())


class DealIn(Schema):
    title: str | None = None
    pipeline: str | None = None
    stage: str | None = None
    amount: str | None = None
    currency: str | None = None
    person: str | None = None
    company: str | None = None
    owner: str | None = None
    expected_close_date: date | None = None
    source: str | None = None
    is_preorder: bool | None = None
    tags: Annotated[list[str], Field(max_length=MAX_TAGS)] | None = None
    custom_fields: dict[str, Any] | None = None


class DealCreate(DealIn):
    title: str


class NoteIn(Schema):
    text: str


class MoveIn(Schema):
    stage: str
    after: str | None = None


class LoseIn(Schema):
    reason: str
    note: str = ""


def with_details(deals):
    return deals.prefetch_related("tags", "line_items")


def deal_data(request, payload: DealIn) -> dict:
    data = payload.dict(exclude_unset=True)
    user = request.auth
    for field, queryset in (
        ("person", people_visible_to(user)),
        ("company", companies_visible_to(user)),
        ("owner", users_visible_to(user)),
        ("pipeline", pipelines_for(user)),
    ):
        if field in data:
            data[field] = one_of(queryset, data[field], field)
    if "stage" in data:
        data["stage"] = one_of(Stage.objects.filter(retired=False), data["stage"], "stage")
    return data


def answer(response: HttpResponse, request, deal):
    deal = with_details(deals_visible_to(request.auth)).get(pk=deal.pk)
    response["ETag"] = etag_of(deal)
    return deal


# --- Pipelines --------------------------------------------------------------------------


@router.get("/pipelines", response=list[PipelineOut], summary="Pipelines with their stages")
def pipelines_list(request):
    return list(pipelines_for(request.auth).prefetch_related("stages"))


@router.post(
    "/pipelines", response={201: PipelineOut}, summary="Create a pipeline (administrators)"
)
def pipelines_create(request, payload: PipelineIn):
    try:
        pipeline = pipeline_create(
            actor=request.auth, name=payload.name, stages=[stage.dict() for stage in payload.stages]
        )
    except ValidationError as error:
        raise invalid(error) from None
    return Status(201, pipeline)


@router.get(
    "/pipelines/{pipeline_id}/stages", response=list[StageOut], summary="A pipeline's stages"
)
def stages_list(request, pipeline_id: RecordId):
    pipeline = get_object_or_404(pipelines_for(request.auth), pk=pipeline_id)
    return list(pipeline.stages.filter(retired=False))


class LostReasonOut(Schema):
    id: str
    name: str


@router.get("/lost-reasons", response=list[LostReasonOut], summary="Reasons a deal can be lost")
def lost_reasons_list(request):
    return [{"id": str(r.pk), "name": str(r)} for r in LostReason.objects.filter(retired=False)]


# --- Deals ----------------------------------------------------------------------------------


@router.get("/deals", response=Page[DealOut], summary="List deals")
def deals_list(request, params: Query[ListParams]):
    deals = deals_visible_to(request.auth)
    errors = []
    for name, value in request.GET.items():
        if name in ("limit", "cursor", "sort"):
            continue
        if name not in DEAL_FILTERS:
            errors.append({"field": name, "message": f"There is no filter {name}."})
        elif name == "status":
            deals = deals.filter(status=value)
        elif name == "tag":
            deals = deals.filter(tags__name__iexact=value)
        elif name == "owner" and value == "me":
            deals = deals.filter(owner=request.auth)
        elif value.isdecimal() and len(value) < 18:
            deals = deals.filter(**{f"{name}_id": int(value)})
        else:
            errors.append({"field": name, "message": "Give an id."})
    if errors:
        raise Problem(400, "Unknown filter or bad filter value.", errors=errors)
    return paginate(with_details(deals), params, sorts=DEAL_SORTS, default_sort="-updated_at")


@router.post("/deals", response={201: DealOut}, summary="Create a deal", openapi_extra=CREATES)
def deals_create(request, response: HttpResponse, payload: DealCreate):
    try:
        deal = deal_create(actor=request.auth, data=deal_data(request, payload))
    except ValidationError as error:
        raise invalid(error) from None
    response["Location"] = f"/api/v1/deals/{deal.pk}"
    return Status(201, answer(response, request, deal))


@router.get("/deals/{deal_id}", response=DealOut, summary="One deal", openapi_extra=ANSWERS_ETAG)
def deals_detail(request, response: HttpResponse, deal_id: RecordId):
    deal = get_object_or_404(deals_visible_to(request.auth), pk=deal_id)
    return answer(response, request, deal)


@router.patch(
    "/deals/{deal_id}",
    response=DealOut,
    summary="Change a deal (send If-Match)",
    openapi_extra=TAKES_IF_MATCH,
)
def deals_update(request, response: HttpResponse, deal_id: RecordId, payload: DealIn):
    data = deal_data(request, payload)
    if "stage" in data or "pipeline" in data:
        raise Problem(
            422,
            "Move a deal with POST /deals/{id}/move.",
            errors=[{"field": "stage", "message": "Use the move endpoint."}],
        )
    return act(
        request,
        response,
        deal_id,
        lambda deal, version: deal_update(
            actor=request.auth, deal=deal, data=data, version=version
        ),
    )


def act(request, response, deal_id: int, action) -> Any:
    """Run a stage action with If-Match; failures become problem documents."""
    deal = run_if_match(request, deals_visible_to(request.auth), deal_id, action)
    return answer(response, request, deal)


@router.post(
    "/deals/{deal_id}/move",
    response=DealOut,
    summary="Move to another open stage",
    openapi_extra=TAKES_IF_MATCH,
)
def deals_move(request, response: HttpResponse, deal_id: RecordId, payload: MoveIn):
    stage = one_of(Stage.objects.all(), payload.stage, "stage")
    after = one_of(deals_visible_to(request.auth), payload.after, "after")
    return act(
        request,
        response,
        deal_id,
        lambda deal, version: deal_move(
            actor=request.auth, deal=deal, stage=stage, after=after, version=version
        ),
    )


@router.post(
    "/deals/{deal_id}/win",
    response=DealOut,
    summary="Close as won",
    openapi_extra=TAKES_IF_MATCH,
)
def deals_win(request, response: HttpResponse, deal_id: RecordId):
    return act(
        request,
        response,
        deal_id,
        lambda deal, version: deal_win(actor=request.auth, deal=deal, version=version),
    )


@router.post(
    "/deals/{deal_id}/lose",
    response=DealOut,
    summary="Close as lost, with a reason",
    openapi_extra=TAKES_IF_MATCH,
)
def deals_lose(request, response: HttpResponse, deal_id: RecordId, payload: LoseIn):
    reason = one_of(LostReason.objects.filter(retired=False), payload.reason, "reason")
    return act(
        request,
        response,
        deal_id,
        lambda deal, version: deal_lose(
            actor=request.auth, deal=deal, reason=reason, note=payload.note, version=version
        ),
    )


@router.post(
    "/deals/{deal_id}/reopen",
    response=DealOut,
    summary="Reopen a closed deal",
    openapi_extra=ANSWERS_ETAG,
)
def deals_reopen(request, response: HttpResponse, deal_id: RecordId):
    return act(
        request, response, deal_id, lambda deal, version: deal_reopen(actor=request.auth, deal=deal)
    )


@router.post("/deals/{deal_id}/line-items", response={201: LineItemOut}, summary="Add a line item")
def line_items_create(request, deal_id: RecordId, payload: LineItemIn):
    deal = get_object_or_404(deals_visible_to(request.auth), pk=deal_id)
    data = payload.dict(exclude_none=True)
    if "product" in data:
        data["product"] = one_of(Product.objects.filter(active=True), data["product"], "product")
    try:
        return Status(201, line_item_save(actor=request.auth, deal=deal, data=data))
    except ValidationError as error:
        raise invalid(error) from None


@router.delete(
    "/deals/{deal_id}/line-items/{item_id}", response={204: None}, summary="Remove a line item"
)
def line_items_delete(request, deal_id: RecordId, item_id: RecordId):
    deal = get_object_or_404(deals_visible_to(request.auth), pk=deal_id)
    line_item_delete(actor=request.auth, item=get_object_or_404(LineItem, pk=item_id, deal=deal))
    return Status(204, None)


@router.get("/deals/{deal_id}/timeline", response=Page[EventOut], summary="The deal's history")
def deals_timeline(request, deal_id: RecordId, params: Query[ListParams]):
    deal = get_object_or_404(deals_visible_to(request.auth), pk=deal_id)
    return paginate(timeline_of(deal), params, sorts={"occurred_at"}, default_sort="-occurred_at")


@router.post(
    "/deals/{deal_id}/notes", response={201: EventOut}, summary="Add a note to the deal's timeline"
)
def deals_note(request, deal_id: RecordId, payload: NoteIn):
    deal = get_object_or_404(deals_visible_to(request.auth), pk=deal_id)
    try:
        event = deal_note_add(actor=request.auth, deal=deal, text=payload.text)
    except ValidationError as error:
        raise invalid(error) from None
    return Status(201, event)


class QuoteOut(Schema):
    currency: str = Field(description="The deal's: the price is in it")
    unit_price: Decimal | None = Field(
        description="null: the product has no price in the deal's currency"
    )
    price_why: str = Field(description="Its formula or price list; empty: the product's price")
    discount_percent: Decimal | None = Field(description="The client's personal discount")
    discount_why: str


class QuoteParams(Schema):
    product: str = Field(max_length=20, description="An active product's id")


@router.get(
    "/deals/{deal_id}/quote",
    response=QuoteOut,
    summary="What a product costs on the deal, and the client's discount, each with its reason",
)
def deal_product_quote(request, deal_id: RecordId, params: Query[QuoteParams]):
    deal = get_object_or_404(deals_visible_to(request.auth), pk=deal_id)
    product = one_of(Product.objects.filter(active=True), params.product, "product")
    try:
        found = quote(product, deal)
    except ValidationError as error:  # a formula the deal's fields cannot work out
        raise invalid(error) from None
    except ArithmeticError:  # a result no price can hold
        raise Problem(
            422,
            "The product's price cannot be worked out for this deal.",
            errors=[{"field": "unit_price", "message": "The formula's result is too large."}],
        ) from None
    return {
        "currency": deal.currency,
        "unit_price": found.unit_price,
        "price_why": found.price_why,
        "discount_percent": found.discount_percent,
        "discount_why": found.discount_why,
    }
