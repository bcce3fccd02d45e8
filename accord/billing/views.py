"""The money screens: a deal's and a client's Invoices card, an invoice's page (edit the
draft, issue, pay, refund, cancel or correct), the lists of invoices, payments and
expenses, and the money report."""

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accord.accounts.field_views import settings_admin
from accord.billing.forms import (
    CategoryForm,
    ExpenseForm,
    InvoiceForm,
    LineFormSet,
    LoyaltyForm,
    PaymentForm,
    RefundForm,
)
from accord.billing.models import ExpenseCategory, Invoice, LoyaltyProgram
from accord.billing.queries import (
    billing_speed,
    categories_in_use,
    client_invoices,
    deal_invoices,
    deal_margin,
    expenses_visible_to,
    income_and_expenses,
    invoice_allocations,
    invoice_list,
    invoices_visible_to,
    loyalty_balance,
    loyalty_history,
    payments_visible_to,
    redeemable_points,
    unpaid_totals,
)
from accord.billing.services import (
    apply_credit,
    category_save,
    client_credit,
    expense_delete,
    expense_save,
    invoice_cancel,
    invoice_correct,
    invoice_delete_draft,
    invoice_from_deal,
    invoice_issue,
    invoice_save,
    loyalty_redeem,
    payment_delete,
    payment_record,
    program_save,
    refund_record,
)
from accord.billing.services.bank import MAX_BYTES as BANK_LIMIT
from accord.billing.services.bank import bank_import
from accord.billing.services.common import RECORD_TYPE
from accord.billing.services.invoices import invoice_document
from accord.comms.services import may_write_to
from accord.contacts.queries import client_named, companies_visible_to, people_visible_to
from accord.core.company import default_currency
from accord.core.ui.forms import apply_errors
from accord.core.visibility import may_change, may_write
from accord.sales.queries import deals_visible_to

PAGE = 50


def _problem(error) -> str:
    return " ".join(getattr(error, "messages", [str(error)]))


def _may_read(user) -> None:
    if user.access_level(RECORD_TYPE, "read") == "none":
        raise Http404


# --- a deal's and a client's card -------------------------------------------------------


@login_required
def deal_panel(request, deal_id: int):
    """The Invoices card of a deal: its invoices, what was paid and spent, and the button
    that invoices its line items (a draft, opened to check and issue)."""
    deal = get_object_or_404(deals_visible_to(request.user), pk=deal_id)
    if request.method == "POST":
        try:
            invoice = invoice_from_deal(actor=request.user, deal=deal)
        except (ValidationError, PermissionDenied) as error:
            return _deal_panel(request, deal, _problem(error))
        address = reverse("invoice_detail", args=[invoice.pk])
        if request.htmx:
            return HttpResponse(status=204, headers={"HX-Redirect": address})
        return redirect(address)
    return _deal_panel(request, deal)


def _deal_panel(request, deal, error: str = ""):
    readable = request.user.access_level(RECORD_TYPE, "read") != "none"
    return render(
        request,
        "billing/deal_panel.html",
        {
            "deal": deal,
            "invoices": deal_invoices(request.user, deal) if readable else [],
            "margin": deal_margin(deal) if readable else None,
            "may_invoice": may_change(request.user, RECORD_TYPE, deal.owner),
            "readable": readable,
            "error": error,
        },
    )


@login_required
def client_panel(request):
    """The Invoices card of a person's or a company's page, with their credit."""
    person, company = client_named(request.user, request.GET)
    if person is None and company is None:
        raise Http404
    if request.user.access_level(RECORD_TYPE, "read") == "none":
        return HttpResponse("")  # the card goes away
    return render(
        request,
        "billing/client_panel.html",
        {
            "invoices": client_invoices(request.user, person=person, company=company),
            "credit": client_credit(person=person, company=company),
            "points": loyalty_balance(person=person, company=company),
            "history": loyalty_history(person=person, company=company, limit=10),
            "program": LoyaltyProgram.current(),
            "client_query": f"person={person.pk}" if person else f"company={company.pk}",
            "may_write": may_write(request.user, RECORD_TYPE),
        },
    )


# --- an invoice ---------------------------------------------------------------------------


@login_required
def invoice_detail(request, invoice_id: int):
    invoice = get_object_or_404(
        invoices_visible_to(request.user).select_related("person", "company", "deal", "owner"),
        pk=invoice_id,
    )
    today = timezone.localdate()
    payment_form = PaymentForm(
        initial={"amount": invoice.due, "currency": invoice.currency, "received_on": today}
    )
    refund_form = RefundForm(initial={"received_on": today})
    return _invoice_page(request, invoice, payment_form, refund_form)


def _invoice_page(request, invoice, payment_form, refund_form):
    document = invoice_document(invoice)
    client = invoice.client
    return render(
        request,
        "billing/invoice.html",
        {
            "invoice": invoice,
            "lines": list(invoice.lines.all()),
            "allocations": invoice_allocations(invoice),
            "corrections": list(invoice.corrections.all()),
            "document": document,
            "may_change": may_change(request.user, RECORD_TYPE, invoice.owner),
            "may_email": invoice.deal is not None and may_write_to(request.user, [invoice.deal]),
            "credit": client_credit(person=invoice.person, company=invoice.company).get(
                invoice.currency
            )
            if client is not None and invoice.status in Invoice.OPEN
            else None,
            "points": redeemable_points(invoice),
            "payment_form": payment_form,
            "refund_form": refund_form,
        },
    )


@login_required
def invoice_edit(request, invoice_id: int | None = None):
    """A draft's client, terms and lines; a new invoice by hand when there is no id."""
    invoice = None
    if invoice_id is not None:
        invoice = get_object_or_404(invoices_visible_to(request.user), pk=invoice_id)
        if invoice.status != Invoice.DRAFT:
            messages.error(request, _("An issued invoice cannot change: correct it instead."))
            return redirect("invoice_detail", invoice_id=invoice.pk)
    elif not may_write(request.user, RECORD_TYPE):
        raise PermissionDenied
    people, companies = people_visible_to(request.user), companies_visible_to(request.user)
    if request.method == "POST":
        form = InvoiceForm(request.POST, people=people, companies=companies)
        lines = LineFormSet(request.POST, prefix="line")
        if form.is_valid() and lines.is_valid():
            data = {**form.cleaned_data, "lines": [
                {**row, "quantity": row["quantity"] or 1}
                for row in lines.cleaned_data if row and (row.get("name") or "").strip()
            ]}  # fmt: skip
            if invoice is None and request.GET.get("deal", "").isdecimal():
                data["deal"] = deals_visible_to(request.user).filter(pk=request.GET["deal"]).first()
            try:
                saved = invoice_save(actor=request.user, data=data, invoice=invoice)
            except (ValidationError, PermissionDenied) as error:
                _errors_on(form, lines, error)
            else:
                if request.POST.get("issue"):
                    return _act(
                        request, saved, lambda: invoice_issue(actor=request.user, invoice=saved)
                    )
                messages.success(request, _("The draft is saved."))
                return redirect("invoice_detail", invoice_id=saved.pk)
    else:
        initial = _initial(request, invoice)
        form = InvoiceForm(initial=initial, people=people, companies=companies)
        rows = [
            {"name": line.name, "quantity": line.quantity.normalize(), "unit": line.unit,
             "unit_price": line.unit_price, "discount_percent": line.discount_percent.normalize(),
             "tax_percent": line.tax_percent.normalize(), "tax_included": line.tax_included}
            for line in (invoice.lines.all() if invoice else [])
        ]  # fmt: skip
        lines = LineFormSet(initial=rows, prefix="line")
    return render(
        request, "billing/invoice_form.html", {"invoice": invoice, "form": form, "lines": lines}
    )


def _initial(request, invoice) -> dict:
    if invoice is not None:
        return {"person": invoice.person_id, "company": invoice.company_id,
                "currency": invoice.currency, "due_on": invoice.due_on,
                "language": invoice.language, "note": invoice.note}  # fmt: skip
    initial = {"currency": default_currency(), "due_on": timezone.localdate() + timedelta(14)}
    for name in ("person", "company"):
        if request.GET.get(name, "").isdecimal():
            initial[name] = int(request.GET[name])
    return initial


def _errors_on(form, lines, error) -> None:
    if isinstance(error, PermissionDenied):
        form.add_error(None, str(error))
        return
    general = {}
    for field, problems in error.message_dict.items():
        parts = field.split(".")
        if parts[0] == "lines" and len(parts) == 3 and parts[1].isdecimal():
            index = int(parts[1])
            if index < len(lines.forms):
                for problem in problems:
                    lines.forms[index].add_error(
                        parts[2] if parts[2] in lines.forms[index].fields else None, problem
                    )
                continue
        general[field] = problems
    if general:
        apply_errors(form, ValidationError(general))


@login_required
@require_POST
def invoice_action(request, invoice_id: int, action: str):
    invoice = get_object_or_404(invoices_visible_to(request.user), pk=invoice_id)
    user = request.user
    if action == "pay":
        return _pay(request, invoice)
    if action == "refund":
        return _refund(request, invoice)
    if action == "points":
        return _act(
            request,
            invoice,
            lambda: loyalty_redeem(
                actor=user, invoice=invoice, points=request.POST.get("points", "")
            ),
            "points",
        )
    actions = {
        "issue": lambda: invoice_issue(actor=user, invoice=invoice),
        "cancel": lambda: invoice_cancel(actor=user, invoice=invoice,
                                         reason=request.POST.get("reason", "")),
        "correct": lambda: invoice_correct(actor=user, invoice=invoice),
        "credit": lambda: apply_credit(invoice=invoice, actor=user),
        "delete": lambda: invoice_delete_draft(actor=user, invoice=invoice),
    }  # fmt: skip
    if action not in actions:
        raise Http404
    return _act(request, invoice, actions[action], action)


def _act(request, invoice, do, action: str = "issue"):
    try:
        result = do()
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _problem(error))
        return redirect("invoice_detail", invoice_id=invoice.pk)
    done = {
        "issue": _("The invoice is issued; its PDF is being made."),
        "cancel": _("The invoice is cancelled."),
        "correct": _("The invoice is cancelled by a credit note; here is the new draft."),
        "credit": _("The client's credit is set against the invoice."),
        "delete": _("The draft is deleted."),
        "points": _("The points are set against the invoice."),
    }
    messages.success(request, done[action])
    if action == "delete" or (action == "cancel" and result is None):
        return redirect("invoices")
    target = result.pk if action == "correct" else invoice.pk
    return redirect("invoice_detail", invoice_id=target)


def _pay(request, invoice):
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            payment_record(actor=request.user, invoice=invoice, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            apply_errors(form, _as_validation(error))
        else:
            messages.success(request, _("The payment is recorded."))
            return redirect("invoice_detail", invoice_id=invoice.pk)
    refund = RefundForm(initial={"received_on": timezone.localdate()})
    return _invoice_page(request, invoice, form, refund)


def _refund(request, invoice):
    form = RefundForm(request.POST)
    if form.is_valid():
        try:
            refund_record(actor=request.user, invoice=invoice, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            apply_errors(form, _as_validation(error))
        else:
            messages.success(request, _("The refund is recorded."))
            return redirect("invoice_detail", invoice_id=invoice.pk)
    payment = PaymentForm(initial={"amount": invoice.due, "currency": invoice.currency,
                                   "received_on": timezone.localdate()})  # fmt: skip
    return _invoice_page(request, invoice, payment, form)


def _as_validation(error) -> ValidationError:
    return error if isinstance(error, ValidationError) else ValidationError(str(error))


@login_required
def invoice_pdf(request, invoice_id: int):
    """The invoice's printed document, for whoever may see the invoice."""
    invoice = get_object_or_404(invoices_visible_to(request.user), pk=invoice_id)
    document = invoice_document(invoice)
    if document is None or document.state != document.READY or not document.pdf:
        raise Http404
    return FileResponse(document.pdf.open("rb"), content_type="application/pdf",
                        as_attachment=bool(request.GET.get("download")),
                        filename=document.file_name)  # fmt: skip


# --- the lists -----------------------------------------------------------------------------


def _page(request, rows):
    return Paginator(rows, PAGE).get_page(request.GET.get("page"))


@login_required
def invoices(request):
    _may_read(request.user)
    status = request.GET.get("status", "")
    if status not in {"", "unpaid", *dict(Invoice.STATUSES)}:
        status = ""
    query = request.GET.get("q", "").strip()[:100]
    rows = invoice_list(request.user, status=status, query=query).order_by("-created_at", "-id")
    return render(
        request,
        "billing/invoices.html",
        {
            "tab": "invoices",
            "page": _page(request, rows),
            "status": status,
            "query": query,
            "statuses": [
                ("", _("All")),
                ("unpaid", _("Waiting for payment")),
                *Invoice.STATUSES,
            ],
            "owed": unpaid_totals(request.user),
            "may_write": may_write(request.user, RECORD_TYPE),
        },
    )


@login_required
def payments(request):
    _may_read(request.user)
    rows = (
        payments_visible_to(request.user)
        .select_related("person", "company", "deal")
        .prefetch_related("allocations__invoice")
        .order_by("-received_on", "-id")
    )
    return render(request, "billing/payments.html", {
        "tab": "payments", "page": _page(request, rows), "currency": default_currency(),
        "may_write": may_write(request.user, RECORD_TYPE),
    })  # fmt: skip


@login_required
def bank_statement(request):
    """A bank statement's CSV: its incoming lines matched to invoices and recorded, the
    rest listed to be recorded by hand."""
    _may_read(request.user)
    if request.method != "POST":
        return redirect("payments")
    upload = request.FILES.get("file")
    error, statement = "", None
    if upload is None:
        error = _("Choose the statement's CSV file.")
    else:
        try:
            statement = bank_import(actor=request.user, content=upload.read(BANK_LIMIT + 1),
                                    currency=request.POST.get("currency", ""))  # fmt: skip
        except (ValidationError, PermissionDenied) as problem:
            error = _problem(problem)
    if statement is None:
        messages.error(request, error)
        return redirect("payments")
    counts = {outcome: len(statement.of(outcome))
              for outcome in ("matched", "unmatched", "already", "outgoing", "bad")}  # fmt: skip
    return render(request, "billing/bank.html",
                  {"tab": "payments", "statement": statement, "counts": counts})  # fmt: skip


@login_required
@require_POST
def payment_remove(request, payment_id: int):
    payment = get_object_or_404(payments_visible_to(request.user), pk=payment_id)
    try:
        payment_delete(actor=request.user, payment=payment)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _problem(error))
    else:
        messages.success(request, _("The payment is removed; its invoices ask for it again."))
    return redirect(request.POST.get("next") or "payments")


@login_required
def expenses(request):
    """The expenses, and the form that adds one (on a deal when ?deal= names it)."""
    _may_read(request.user)
    deal = None
    if request.GET.get("deal", "").isdecimal():
        deal = get_object_or_404(deals_visible_to(request.user), pk=request.GET["deal"])
    if request.method == "POST":
        form = ExpenseForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                expense_save(actor=request.user, data={**form.cleaned_data, "deal": deal})
            except (ValidationError, PermissionDenied) as error:
                apply_errors(form, _as_validation(error))
            else:
                messages.success(request, _("The expense is added."))
                if deal is not None:
                    return redirect("deal_detail", pk=deal.pk)
                return redirect("expenses")
    else:
        currency = deal.currency if deal else default_currency()
        initial = {"spent_on": timezone.localdate(), "currency": currency}
        if request.GET.get("campaign", "").isdecimal():  # "Add an expense" on a campaign
            initial["campaign"] = int(request.GET["campaign"])
        form = ExpenseForm(initial=initial, user=request.user)
    rows = expenses_visible_to(request.user).select_related("category", "deal", "campaign")
    if deal is not None:
        rows = rows.filter(deal=deal)
    return render(
        request,
        "billing/expenses.html",
        {
            "tab": "expenses",
            "page": _page(request, rows.order_by("-spent_on", "-id")),
            "form": form,
            "deal": deal,
            "has_categories": categories_in_use().exists(),
            "may_write": may_write(request.user, RECORD_TYPE),
        },
    )


@login_required
@require_POST
def expense_remove(request, expense_id: int):
    expense = get_object_or_404(expenses_visible_to(request.user), pk=expense_id)
    try:
        expense_delete(actor=request.user, expense=expense)
    except PermissionDenied as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The expense is removed."))
    return redirect("expenses")


@login_required
def money_report(request):
    """Income and expenses per month, what clients owe, how fast the team bills and
    clients pay — for a period (this year by default)."""
    _may_read(request.user)
    today = timezone.localdate()
    start = _date(request.GET.get("from")) or date(today.year, 1, 1)
    end = _date(request.GET.get("to")) or today
    if end < start:
        start, end = end, start
    return render(
        request,
        "billing/report.html",
        {
            "tab": "report",
            "since": start,
            "until": end,
            "months": income_and_expenses(request.user, start=start, end=end),
            "owed": unpaid_totals(request.user),
            "speed": billing_speed(request.user, start=start, end=end),
        },
    )


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def money_home(request):
    return redirect("invoices")


@settings_admin
def money_settings(request):
    """Settings → Money: the loyalty programme and the expense categories."""
    program = LoyaltyProgram.objects.filter(pk=1).first()
    initial = {"currency": default_currency(), "earn_per": "100", "point_value": "1"}
    if program is not None:
        initial = {"enabled": program.enabled, "currency": program.currency,
                   "earn_per": program.earn_per, "point_value": program.point_value}  # fmt: skip
    form = LoyaltyForm(initial=initial)
    category_form = CategoryForm()
    if request.method == "POST":
        chosen = request.POST.get("save")
        try:
            if chosen == "loyalty":
                form = LoyaltyForm(request.POST)
                if form.is_valid():
                    program_save(actor=request.user, data=form.cleaned_data)
                    messages.success(request, _("Saved."))
                    return redirect("settings_money")
            elif chosen == "category":
                category_form = CategoryForm(request.POST)
                if category_form.is_valid():
                    category_save(actor=request.user, name=category_form.cleaned_data["name"])
                    return redirect("settings_money")
            elif chosen == "retire":
                category = get_object_or_404(ExpenseCategory, pk=request.POST.get("category") or 0)
                category_save(actor=request.user, category=category, name=category.name,
                              retired=not category.retired)  # fmt: skip
                return redirect("settings_money")
        except ValidationError as error:
            apply_errors(form if chosen == "loyalty" else category_form, error)
    return render(request, "billing/settings.html", {
        "page_title": _("Money"), "section": "money", "form": form,
        "category_form": category_form, "categories": ExpenseCategory.objects.all(),
    })  # fmt: skip
