"""API: loyalty points — the programme (set by administrators), a client's points and
their history, and points redeemed on an invoice as a payment."""

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from accord.billing.api.payments import _payment_answer
from accord.billing.api.schemas import Amount, PaymentOut
from accord.billing.models import LoyaltyProgram
from accord.billing.queries import invoices_visible_to, loyalty_balance, loyalty_history
from accord.billing.services import loyalty_redeem, program_save
from accord.contacts.queries import companies_visible_to, people_visible_to
from accord.core.api.concurrency import CREATES
from accord.core.api.problems import PROBLEM_CONTENT_TYPE, Problem, invalid
from accord.core.api.schemas import RecordId

router = Router()
HISTORY = 20  # entries of a client's history, newest first


def answers_404(why: str) -> dict:
    """`openapi_extra` of an operation without a path that may answer 404."""
    schema = {"$ref": "#/components/schemas/ProblemDetails"}
    return {
        "responses": {
            404: {
                "description": f"Not Found: {why}",
                "content": {PROBLEM_CONTENT_TYPE: {"schema": schema}},
            }
        }
    }


class LoyaltyProgramOut(Schema):
    enabled: bool = Field(description="Clients earn points (and may redeem them)")
    currency: str = Field(description="Payments in it earn points; points pay invoices in it")
    earn_per: Decimal = Field(description="One point for each so much paid")
    point_value: Decimal = Field(description="What a point pays of an invoice")


class LoyaltyProgramIn(Schema):
    enabled: bool
    currency: str = Field(max_length=3, description="ISO 4217: EUR, RUB, ILS")
    earn_per: Amount
    point_value: Amount


class LoyaltyEntryOut(Schema):
    kind: str = Field(description="earned, redeemed or reversed (a payment removed or refunded)")
    points: int = Field(description="Negative when redeemed or taken back")
    invoice: str | None = Field(description="The number of the invoice the points paid")
    at: datetime

    @staticmethod
    def resolve_invoice(entry) -> str | None:
        if entry.invoice_id is None:
            return None
        return entry.invoice.number or None

    @staticmethod
    def resolve_at(entry) -> datetime:
        return entry.created_at


class LoyaltyBalanceOut(Schema):
    points: int
    history: list[LoyaltyEntryOut] = Field(description=f"The last {HISTORY} entries, newest first")


class ClientParams(Schema):
    person: RecordId | None = Field(None, description="A person's own points (not their company's)")
    company: RecordId | None = Field(None, description="Or a company's points")


class RedeemIn(Schema):
    points: int = Field(ge=1, le=10**9, description="Whole points, at most what the client has")


@router.get(
    "/loyalty",
    response=LoyaltyProgramOut,
    summary="The loyalty programme",
    openapi_extra=answers_404("no programme has been set up"),
)
def loyalty_program_detail(request):
    program = LoyaltyProgram.objects.filter(pk=1).first()
    if program is None:
        raise Http404
    return program


@router.put(
    "/loyalty", response=LoyaltyProgramOut, summary="Set up the loyalty programme (administrators)"
)
def loyalty_program_set(request, payload: LoyaltyProgramIn):
    try:
        program = program_save(actor=request.auth, data=payload.dict())
    except ValidationError as error:
        raise invalid(error) from None
    return LoyaltyProgram.objects.get(pk=program.pk)  # as stored: "100.00"


@router.get(
    "/loyalty/balance",
    response=LoyaltyBalanceOut,
    summary="A client's points and their history: give `person` or `company`",
    openapi_extra=answers_404("no such client, or the caller may not see them"),
)
def loyalty_balance_detail(request, params: Query[ClientParams]):
    if (params.person is None) == (params.company is None):
        message = "Give either a person or a company."
        raise Problem(
            422,
            "The request has invalid values.",
            errors=[{"field": "person", "message": message},
                    {"field": "company", "message": message}],
        )  # fmt: skip
    if params.company is not None:
        client = {
            "company": get_object_or_404(companies_visible_to(request.auth), pk=params.company)
        }
    else:
        client = {"person": get_object_or_404(people_visible_to(request.auth), pk=params.person)}
    return {
        "points": loyalty_balance(**client),
        "history": loyalty_history(**client, limit=HISTORY),
    }


@router.post(
    "/invoices/{invoice_id}/redeem-points",
    response={201: PaymentOut},
    summary="Pay (part of) an issued invoice with the client's loyalty points",
    openapi_extra=CREATES,
    # "loyalty_points_redeem" would read "redeemLoyaltyPoint": the empty last word keeps
    # the plural (accord/api/openapi.py singularises the noun before the verb).
    operation_id="loyalty_points__redeem",
)
def loyalty_points_redeem(request, response: HttpResponse, invoice_id: RecordId, payload: RedeemIn):
    invoice = get_object_or_404(invoices_visible_to(request.auth), pk=invoice_id)
    try:
        payment = loyalty_redeem(actor=request.auth, invoice=invoice, points=payload.points)
    except ValidationError as error:
        raise invalid(error) from None
    return _payment_answer(response, payment, created=True)
