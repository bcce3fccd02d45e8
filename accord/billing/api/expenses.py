"""API: expenses, their categories, and the money report."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Status

from accord.billing.api.schemas import (
    CENT,
    ExpenseCategoryOut,
    ExpenseCreate,
    ExpenseFilters,
    ExpenseIn,
    ExpenseOut,
    MoneyReportOut,
    PeriodParams,
    fail,
    no_nulls,
)
from accord.billing.models import Expense
from accord.billing.queries import (
    billing_speed,
    categories_in_use,
    expenses_visible_to,
    income_and_expenses,
    unpaid_totals,
)
from accord.billing.services import expense_delete, expense_save
from accord.billing.services.common import RECORD_TYPE
from accord.billing.services.expenses import campaign_choices
from accord.core.api.concurrency import ANSWERS_ETAG, CREATES, TAKES_IF_MATCH, etag_of, if_match
from accord.core.api.pagination import ListParams, Page, paginate
from accord.core.api.problems import invalid, one_of
from accord.core.api.schemas import RecordId
from accord.core.company import default_currency
from accord.core.visibility import NONE, READ, effective_level
from accord.sales.queries import deals_visible_to

router = Router()


def _expense_data(request, data: dict) -> dict:
    no_nulls(data, ("amount", "currency", "category", "spent_on"))
    if data.get("deal") is not None:
        data["deal"] = one_of(deals_visible_to(request.auth), data["deal"], "deal")
    if data.get("campaign") is not None:
        data["campaign"] = one_of(campaign_choices(request.auth), data["campaign"], "campaign")
    if "category" in data:
        data["category"] = one_of(categories_in_use(), data["category"], "category")
    for field in ("supplier", "description"):
        if field in data and data[field] is None:
            data[field] = ""
    return data


def _expense_answer(response: HttpResponse, expense: Expense) -> Expense:
    expense = Expense.objects.select_related("category").get(pk=expense.pk)
    response["ETag"] = etag_of(expense)
    return expense


@router.get("/expenses", response=Page[ExpenseOut], summary="Expenses, newest first")
def expenses_list(request, params: Query[ListParams], filters: Query[ExpenseFilters]):
    expenses = expenses_visible_to(request.auth).select_related("category")
    if filters.deal is not None:
        expenses = expenses.filter(deal_id=filters.deal)
    if filters.category is not None:
        expenses = expenses.filter(category_id=filters.category)
    if filters.campaign is not None:
        expenses = expenses.filter(campaign_id=filters.campaign)
    return paginate(expenses, params, sorts={"spent_on"}, default_sort="-spent_on")


@router.post(
    "/expenses", response={201: ExpenseOut}, summary="Record an expense", openapi_extra=CREATES
)
def expenses_create(request, response: HttpResponse, payload: ExpenseCreate):
    data = _expense_data(request, payload.dict(exclude_unset=True))
    if "currency" not in data:
        deal = data.get("deal")
        data["currency"] = deal.currency if deal is not None else default_currency()
    try:
        expense = expense_save(actor=request.auth, data=data)
    except ValidationError as error:
        raise invalid(error) from None
    response["Location"] = f"/api/v1/expenses/{expense.pk}"
    return Status(201, _expense_answer(response, expense))


@router.get(
    "/expenses/{expense_id}", response=ExpenseOut, summary="One expense", openapi_extra=ANSWERS_ETAG
)
def expenses_detail(request, response: HttpResponse, expense_id: RecordId):
    expense = get_object_or_404(expenses_visible_to(request.auth), pk=expense_id)
    return _expense_answer(response, expense)


@router.patch(
    "/expenses/{expense_id}",
    response=ExpenseOut,
    summary="Change an expense (send If-Match)",
    openapi_extra=TAKES_IF_MATCH,
)
def expenses_update(request, response: HttpResponse, expense_id: RecordId, payload: ExpenseIn):
    get_object_or_404(expenses_visible_to(request.auth), pk=expense_id)
    data = _expense_data(request, payload.dict(exclude_unset=True))
    expense = if_match(
        request,
        expenses_visible_to(request.auth),
        expense_id,
        lambda expense: expense_save(actor=request.auth, expense=expense, data=data),
    )
    return _expense_answer(response, expense)


@router.delete("/expenses/{expense_id}", response={204: None}, summary="Remove an expense")
def expenses_delete(request, expense_id: RecordId):
    expense = get_object_or_404(expenses_visible_to(request.auth), pk=expense_id)
    expense_delete(actor=request.auth, expense=expense)
    return Status(204, None)


@router.get(
    "/expense-categories", response=list[ExpenseCategoryOut], summary="Expense categories in use"
)
def expense_categories_list(request):
    return list(categories_in_use())


# --- The money report ------------------------------------------------------------------------


@router.get(
    "/money/report",
    response=MoneyReportOut,
    summary="Income and expenses per month, what clients owe, how fast we bill and they pay",
)
def money_report_get(request, params: Query[PeriodParams]):
    if effective_level(request.auth, RECORD_TYPE, READ) == NONE:
        raise Http404
    today = timezone.localdate()
    until = params.until or today
    since = params.since or date(until.year, 1, 1)
    if since > until:
        fail({"from": "The period's start must be on or before its end."})
    months = income_and_expenses(request.auth, start=since, end=until)
    unpaid = unpaid_totals(request.auth)
    return {
        "since": since,
        "until": until,
        "months": [_in_cents(row, ("income", "expenses", "result")) for row in months],
        "unpaid": [_in_cents(row, ("due", "overdue")) for row in unpaid],
        "speed": billing_speed(request.auth, start=since, end=until),
    }


def _in_cents(row: dict, fields: tuple[str, ...]) -> dict:
    """Sums as the stored amounts are written ("58500.50"): SQLite adds decimals as
    floating point and drops the trailing zeros."""
    return {**row, **{field: Decimal(row[field]).quantize(CENT) for field in fields}}
