"""Money through the API: a draft from a deal issued as INV-2026-0001 with its PDF, paid in
parts, in another currency only at a rate, refunded, cancelled by a credit note, corrected;
a bank statement imported (once); a stale If-Match and a frozen invoice refused; bad values
named field by field with nothing written; expenses; the report; and nothing shown to who
may not see it."""

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from accord.accounts.services import token_create, user_create
from accord.billing.models import Expense, Invoice, Payment
from tests.api.test_errors import assert_problem
from tests.conftest import PASSWORD, ApiClient, run_worker

pytestmark = pytest.mark.django_db(transaction=True)  # the PDF is queued after the commit

MARCH_10 = "2026-03-10 10:00Z"
TODAY = "2026-12-06 10:00Z"


def fields_of(response, status=422) -> list[str]:
    return [error["field"] for error in assert_problem(response, status)["errors"]]


def drafted(api, deal, **more) -> dict:
    created = api.post_json("/api/v1/invoices", {"deal": str(deal.pk), "from_deal": True, **more})
    assert created.status_code == 201, created.content
    return created


def issued(api, deal) -> dict:
    with time_machine.travel(MARCH_10):
        draft = drafted(api, deal).json()
        answer = api.post_json(f"/api/v1/invoices/{draft['id']}/issue", {})
    assert answer.status_code == 200, answer.content
    return answer.json()


def pay(api, invoice, amount, on="2026-03-12 10:00Z", **more):
    with time_machine.travel(on):
        return api.post_json(
            "/api/v1/payments",
            {"invoice": invoice["id"], "amount": amount, "currency": "RUB", **more},
        )


def test_a_draft_from_a_deal_is_issued_as_the_first_invoice_of_the_year_with_its_pdf(api, deal):
    with time_machine.travel(MARCH_10):
        created = drafted(api, deal, note="Thank you", due_on="2026-03-31")
        draft = created.json()
        assert created["Location"] == f"/api/v1/invoices/{draft['id']}"
        assert (draft["status"], draft["number"], draft["deal"]) == ("draft", None, str(deal.pk))
        assert [line["name"] for line in draft["lines"]] == ["Window 120×140", "Installation"]
        assert (draft["subtotal"], draft["tax"], draft["total"], draft["due"]) == (
            "49500.50", "9000.00", "58500.50", "0.00",
        )  # fmt: skip
        assert (draft["due_on"], draft["note"], draft["pdf"]) == ("2026-03-31", "Thank you", None)
        url = created["Location"]
        answer = api.post_json(f"{url}/issue", {}, headers={"If-Match": created["ETag"]})
    assert answer.status_code == 200, answer.content
    invoice = answer.json()
    assert (invoice["number"], invoice["status"]) == ("INV-2026-0001", "issued")
    assert (invoice["issued_on"], invoice["due"]) == ("2026-03-10", "58500.50")
    assert answer["ETag"] != created["ETag"]
    assert invoice["document_state"] == "pending" and invoice["pdf"] is None
    assert_problem(api.get(f"{url}/pdf"), 404)
    assert run_worker() >= 1
    ready = api.get(url)
    assert ready.json()["pdf"] == f"{url}/pdf" and ready["ETag"] == answer["ETag"]
    pdf = api.get(ready.json()["pdf"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    listed = api.get(f"/api/v1/invoices?deal={deal.pk}&status=issued").json()
    assert [item["number"] for item in listed["items"]] == ["INV-2026-0001"]
    assert listed["next_cursor"] is None
    assert api.get("/api/v1/invoices?status=draft").json()["items"] == []


def test_an_invoice_by_hand_names_its_client_currency_and_lines(api, deal):
    body = {
        "company": str(deal.company_id),
        "currency": "EUR",
        "lines": [
            {"name": "Service", "quantity": "2", "unit_price": "60", "tax_percent": "20",
             "tax_included": True},
            {"name": "Parts", "unit_price": "10.00", "discount_percent": "10", "tax_percent": "20"},
        ],
    }  # fmt: skip
    created = api.post_json("/api/v1/invoices", body)
    assert created.status_code == 201, created.content
    invoice = created.json()
    assert (invoice["company"], invoice["person"], invoice["currency"]) == (
        str(deal.company_id), None, "EUR",
    )  # fmt: skip
    assert (invoice["subtotal"], invoice["tax"], invoice["total"]) == ("109.00", "21.80", "130.80")
    assert [line["net"] for line in invoice["lines"]] == ["100.00", "9.00"]


def test_payments_in_parts_then_in_full_make_the_invoice_paid(api, deal):
    invoice = issued(api, deal)
    first = pay(api, invoice, "20000", method="card", reference="slip 7")
    assert first.status_code == 201, first.content
    assert first["Location"] == f"/api/v1/payments/{first.json()['id']}"
    assert (first.json()["allocated"], first.json()["method"]) == ("20000.00", "card")
    partly = api.get(f"/api/v1/invoices/{invoice['id']}").json()
    assert (partly["status"], partly["paid"], partly["due"]) == (
        "partly_paid", "20000.00", "38500.50",
    )  # fmt: skip
    unpaid = api.get("/api/v1/invoices?status=unpaid").json()["items"]
    assert [item["id"] for item in unpaid] == [invoice["id"]]
    second = pay(api, invoice, "38500.50", on="2026-03-15 10:00Z")
    assert second.status_code == 201, second.content
    paid = api.get(f"/api/v1/invoices/{invoice['id']}").json()
    assert (paid["status"], paid["paid_on"], paid["due"]) == ("paid", "2026-03-15", "0.00")
    assert [a["amount"] for a in paid["allocations"]] == ["20000.00", "38500.50"]
    assert api.get("/api/v1/invoices?status=unpaid").json()["items"] == []
    listed = api.get(f"/api/v1/payments?invoice={invoice['id']}").json()["items"]
    assert [p["received_on"] for p in listed] == ["2026-03-15", "2026-03-12"]
    assert pay(api, invoice, "1").status_code == 422  # nothing more is asked


def test_a_payment_in_another_currency_without_a_rate_is_refused_naming_the_rate(api, deal):
    invoice = issued(api, deal)
    refused = pay(api, invoice, "100", currency="USD")
    assert fields_of(refused) == ["rate"]
    assert "RUB" in refused.json()["errors"][0]["message"]
    assert not Payment.objects.exists()
    accepted = pay(api, invoice, "100", currency="USD", rate="92.5")
    assert accepted.status_code == 201, accepted.content
    allocation = accepted.json()["allocations"][0]
    assert (allocation["amount"], allocation["payment_amount"]) == ("9250.00", "100.00")
    assert api.get(f"/api/v1/invoices/{invoice['id']}").json()["paid"] == "9250.00"


def test_a_payment_in_the_future_or_twice_with_one_idempotency_key(api, deal):
    invoice = issued(api, deal)
    with time_machine.travel("2026-12-06 10:00Z"):
        future = api.post_json(
            "/api/v1/payments",
            {"invoice": invoice["id"], "amount": "10", "currency": "RUB",
             "received_on": "2026-12-07"},
        )  # fmt: skip
        assert fields_of(future) == ["received_on"]
        body = {"invoice": invoice["id"], "amount": "10", "currency": "RUB"}
        key = {"Idempotency-Key": "pay-once"}
        first = api.post_json("/api/v1/payments", body, headers=key)
        again = api.post_json("/api/v1/payments", body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert Payment.objects.count() == 1


def import_statement(api, content: bytes, currency="RUB"):
    upload = SimpleUploadedFile("statement.csv", content, content_type="text/csv")
    with time_machine.travel(TODAY):
        return api.post("/api/v1/payments/bank-import", {"file": upload, "currency": currency})


def test_a_bank_statement_pays_the_invoice_its_purpose_names_once_and_lists_the_rest(api, deal):
    invoice = issued(api, deal)
    statement = (
        "Date,Amount,Purpose,Payer\n"
        f"2026-12-01,58500.50,Payment for invoice {invoice['number']},Roza Ltd\n"
        "2026-12-02,1234.00,Debt returned,P. Petrov\n"
        "2026-12-03,-500.00,Bank fee,\n"
    ).encode()
    answer = import_statement(api, statement)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert {key: body[key] for key in ("recorded", "unmatched", "already", "outgoing", "bad")} == {
        "recorded": 1, "unmatched": 1, "already": 0, "outgoing": 1, "bad": 0,
    }  # fmt: skip
    paid, unmatched, fee = body["lines"]
    assert paid == {
        "row": 2, "date": "2026-12-01", "amount": "58500.50", "currency": "RUB",
        "purpose": "Payment for invoice INV-2026-0001", "payer": "Roza Ltd",
        "outcome": "matched", "invoice": "INV-2026-0001", "reason": "",
    }  # fmt: skip
    assert (unmatched["outcome"], unmatched["invoice"], unmatched["payer"]) == (
        "unmatched", None, "P. Petrov",
    )  # fmt: skip
    assert "no invoice waits for this amount" in unmatched["reason"]
    assert (fee["outcome"], fee["amount"]) == ("outgoing", "-500.00")
    after = api.get(f"/api/v1/invoices/{invoice['id']}").json()
    assert (after["status"], after["paid_on"], after["due"]) == ("paid", "2026-12-01", "0.00")
    payment = api.get(f"/api/v1/payments?invoice={invoice['id']}").json()["items"][0]
    assert (payment["method"], payment["received_on"], payment["reference"]) == (
        "bank_transfer", "2026-12-01", "Payment for invoice INV-2026-0001",
    )  # fmt: skip
    again = import_statement(api, statement).json()
    assert (again["recorded"], again["already"], again["unmatched"]) == (0, 1, 1)
    assert [line["outcome"] for line in again["lines"]] == ["already", "unmatched", "outgoing"]
    assert Payment.objects.count() == 1


def test_a_statement_without_an_amount_column_or_a_currency_is_a_422_naming_it(api, deal):
    invoice = issued(api, deal)
    no_amount = f"Date,Purpose\n2026-12-01,Invoice {invoice['number']}\n".encode()
    refused = import_statement(api, no_amount)
    assert fields_of(refused) == ["file"]
    assert "(found: date, purpose)" in refused.json()["errors"][0]["message"]
    good = f"Date,Amount,Purpose\n2026-12-01,100,Invoice {invoice['number']}\n".encode()
    assert fields_of(import_statement(api, good, currency="XXQ")) == ["currency"]
    broken = b"Date,Amount\n2026-12-01,1\r3\n"  # a bare line break inside a line
    assert fields_of(import_statement(api, broken)) == ["file"]
    marketer = user_create(email="mia@example.com", password=PASSWORD, role="marketing")
    other = ApiClient(token_create(user=marketer, name="mia")[1])
    assert_problem(import_statement(other, good), 403)  # the role may not change money
    assert not Payment.objects.exists()


def test_a_stale_if_match_is_a_412_and_writes_nothing(api, deal):
    created = drafted(api, deal)
    url = created["Location"]
    changed = api.patch_json(url, {"note": "First"}, headers={"If-Match": created["ETag"]})
    assert changed.status_code == 200, changed.content
    assert changed.json()["note"] == "First" and changed["ETag"] != created["ETag"]
    stale = api.patch_json(url, {"note": "Second"}, headers={"If-Match": created["ETag"]})
    assert_problem(stale, 412)
    assert stale["ETag"] == changed["ETag"]
    assert_problem(api.post_json(f"{url}/issue", {}, headers={"If-Match": created["ETag"]}), 412)
    invoice = Invoice.objects.get()
    assert (invoice.note, invoice.status) == ("First", Invoice.DRAFT)


def test_a_draft_takes_new_lines_and_an_issued_invoice_is_frozen(api, deal):
    draft = drafted(api, deal).json()
    url = f"/api/v1/invoices/{draft['id']}"
    lines = [{"name": "Window 60×60", "quantity": "2", "unit_price": "7000"}]
    changed = api.patch_json(url, {"lines": lines, "language": "ru"})
    assert changed.status_code == 200, changed.content
    assert (changed.json()["total"], changed.json()["language"]) == ("14000.00", "ru")
    with time_machine.travel(MARCH_10):
        assert api.post_json(f"{url}/issue", {}).status_code == 200
    frozen = api.patch_json(url, {"note": "changed"})
    assert fields_of(frozen) == ["status"]
    assert "correct it" in frozen.json()["errors"][0]["message"]
    assert fields_of(api.delete(url)) == ["status"]
    assert Invoice.objects.get().note == ""


def test_a_draft_is_deleted_and_nulls_that_would_break_it_are_named(api, deal):
    draft = drafted(api, deal).json()
    url = f"/api/v1/invoices/{draft['id']}"
    assert fields_of(api.patch_json(url, {"lines": None, "currency": None})) == [
        "currency", "lines",
    ]  # fmt: skip
    assert api.delete(url).status_code == 204
    assert_problem(api.get(url), 404)
    assert not Invoice.objects.exists()


def test_cancelling_answers_the_credit_note_and_correcting_the_new_draft(api, deal):
    invoice = issued(api, deal)
    pay(api, invoice, "1000")
    url = f"/api/v1/invoices/{invoice['id']}"
    with time_machine.travel("2026-03-12 12:00Z"):
        cancelled = api.post_json(f"{url}/cancel", {"reason": "Ordered twice"})
    assert cancelled.status_code == 201, cancelled.content
    note = cancelled.json()
    assert cancelled["Location"] == f"/api/v1/invoices/{note['id']}"
    assert (note["kind"], note["number"], note["total"], note["corrects"]) == (
        "credit_note", "CN-2026-0001", "-58500.50", invoice["id"],
    )  # fmt: skip
    original = api.get(url).json()
    assert (original["status"], original["paid"], original["corrections"]) == (
        "cancelled", "0.00", [note["id"]],
    )  # fmt: skip
    assert fields_of(api.post_json(f"{url}/cancel", {})) == ["status"]
    second = issued(api, deal)
    with time_machine.travel("2026-03-12 12:00Z"):
        corrected = api.post_json(f"/api/v1/invoices/{second['id']}/correct", {})
    assert corrected.status_code == 201, corrected.content
    draft = corrected.json()
    assert (draft["status"], draft["number"], len(draft["lines"])) == ("draft", None, 2)
    assert api.get(f"/api/v1/invoices/{second['id']}").json()["status"] == "cancelled"
    assert fields_of(api.post_json(f"/api/v1/invoices/{draft['id']}/cancel", {})) == ["status"]


def test_a_refund_and_the_clients_credit_set_against_the_next_invoice(api, deal):
    invoice = issued(api, deal)
    pay(api, invoice, "58500.50")
    with time_machine.travel("2026-03-13 10:00Z"):
        too_much = api.post_json("/api/v1/refunds", {"invoice": invoice["id"], "amount": "60000"})
        assert fields_of(too_much) == ["amount"]
        refund = api.post_json("/api/v1/refunds", {"invoice": invoice["id"], "amount": "4500.50"})
    assert refund.status_code == 201, refund.content
    assert (refund.json()["kind"], refund.json()["allocations"][0]["amount"]) == (
        "refund", "-4500.50",
    )  # fmt: skip
    after = api.get(f"/api/v1/invoices/{invoice['id']}").json()
    assert (after["status"], after["paid"]) == ("partly_paid", "54000.00")
    with time_machine.travel("2026-03-14 10:00Z"):
        credit = api.post_json(
            "/api/v1/payments",
            {"company": str(deal.company_id), "amount": "500", "currency": "RUB"},
        )
    assert credit.status_code == 201, credit.content
    assert credit.json()["unallocated"] == "0.00"  # it went to the open invoice at once
    assert api.get(f"/api/v1/invoices/{invoice['id']}").json()["paid"] == "54500.00"
    removed = api.delete(f"/api/v1/payments/{credit.json()['id']}")
    assert removed.status_code == 204
    assert api.get(f"/api/v1/invoices/{invoice['id']}").json()["paid"] == "54000.00"
    refunds = api.get("/api/v1/payments?kind=refund").json()["items"]
    assert [r["id"] for r in refunds] == [refund.json()["id"]]


def test_bad_values_are_422s_naming_each_field_and_nothing_is_written(api, deal):
    invoice_body = {
        "person": str(deal.person_id),
        "currency": "XXQ",
        "lines": [{"name": "", "unit_price": "abc"}, {"name": "Ok", "quantity": "1e12",
                                                      "unit_price": "1"}],
    }  # fmt: skip
    assert set(fields_of(api.post_json("/api/v1/invoices", invoice_body))) == {
        "lines.1.quantity",
    }  # the columns' limits first
    invoice_body["lines"].pop()
    assert set(fields_of(api.post_json("/api/v1/invoices", invoice_body))) == {
        "currency", "lines.0.name", "lines.0.unit_price",
    }  # fmt: skip
    huge = [{"name": "Gold", "quantity": "999999999", "unit_price": "999999999.99"}]
    body = {"person": str(deal.person_id), "currency": "RUB", "lines": huge}
    assert fields_of(api.post_json("/api/v1/invoices", body)) == ["lines"]
    mixed = {"deal": str(deal.pk), "from_deal": True, "currency": "EUR", "lines": []}
    assert fields_of(api.post_json("/api/v1/invoices", mixed)) == ["currency", "lines"]
    assert fields_of(api.post_json("/api/v1/invoices", {"from_deal": True})) == ["deal"]
    numbers = {"person": str(deal.person_id), "currency": "RUB", "lines": [{"name": "X",
               "quantity": 2, "unit_price": 10}]}  # fmt: skip
    assert set(fields_of(api.post_json("/api/v1/invoices", numbers))) == {
        "lines.0.quantity", "lines.0.unit_price",
    }  # money is text, never a float  # fmt: skip
    assert fields_of(api.post_json("/api/v1/invoices", {"person": "9²"})) == ["person"]
    assert not Invoice.objects.exists()
    payment = {"person": str(deal.person_id), "amount": "abc", "currency": "XXQ"}
    assert set(fields_of(api.post_json("/api/v1/payments", payment))) == {"amount", "currency"}
    no_client = {"amount": "10", "currency": "RUB", "method": "cheque"}
    assert fields_of(api.post_json("/api/v1/payments", no_client)) == ["method"]
    assert fields_of(api.post_json("/api/v1/refunds", {"amount": "10"})) == ["invoice"]
    assert not Payment.objects.exists()


def test_who_may_not_see_an_invoice_gets_404s_and_pays_nothing(api, deal):
    invoice = issued(api, deal)
    outsider = user_create(email="sam@example.com", password=PASSWORD, role="manager",
                           full_name="Sam Outsider")  # fmt: skip
    other = ApiClient(token_create(user=outsider, name="sam")[1])
    url = f"/api/v1/invoices/{invoice['id']}"
    assert_problem(other.get(url), 404)
    assert_problem(other.patch_json(url, {"note": "mine"}), 404)
    assert_problem(other.post_json(f"{url}/cancel", {}), 404)
    assert_problem(other.get(f"{url}/pdf"), 404)
    assert_problem(other.delete(url), 404)
    assert other.get("/api/v1/invoices").json()["items"] == []
    with time_machine.travel("2026-03-12 10:00Z"):
        paid = other.post_json(
            "/api/v1/payments", {"invoice": invoice["id"], "amount": "1", "currency": "RUB"}
        )
    assert fields_of(paid) == ["invoice"]
    assert not Payment.objects.exists()
    assert Invoice.objects.get().status == Invoice.ISSUED


def test_expenses_are_recorded_changed_and_reported_beside_the_income(api, deal):
    categories = api.get("/api/v1/expense-categories").json()
    materials = next(c for c in categories if c["name"] == "Materials")
    with time_machine.travel("2026-03-11 10:00Z"):
        created = api.post_json(
            "/api/v1/expenses",
            {"amount": "20000", "category": materials["id"], "deal": str(deal.pk),
             "supplier": "Glass Ltd"},
        )  # fmt: skip
    assert created.status_code == 201, created.content
    expense = created.json()
    assert (expense["currency"], expense["spent_on"], expense["category_name"]) == (
        "RUB", "2026-03-11", "Materials",
    )  # fmt: skip
    url = created["Location"]
    changed = api.patch_json(url, {"amount": "21000"}, headers={"If-Match": created["ETag"]})
    assert changed.json()["amount"] == "21000.00"
    assert_problem(api.patch_json(url, {"amount": "1"}, headers={"If-Match": created["ETag"]}), 412)
    assert fields_of(api.patch_json(url, {"amount": "abc"})) == ["amount"]
    assert fields_of(api.post_json("/api/v1/expenses", {"amount": "1", "category": "999"})) == [
        "category",
    ]  # fmt: skip
    invoice = issued(api, deal)
    pay(api, invoice, "58500.50")
    report = api.get("/api/v1/money/report?from=2026-01-01&to=2026-12-31")
    assert report.status_code == 200, report.content
    body = report.json()
    assert body["months"] == [{"month": "2026-03-01", "currency": "RUB", "income": "58500.50",
                               "expenses": "21000.00", "result": "37500.50"}]  # fmt: skip
    assert body["unpaid"] == []
    assert body["speed"]["owners"][0]["count"] == 1
    assert fields_of(api.get("/api/v1/money/report?from=2026-12-31&to=2026-01-01")) == ["from"]
    assert [e["id"] for e in api.get(f"/api/v1/expenses?deal={deal.pk}").json()["items"]] == [
        expense["id"],
    ]  # fmt: skip
    assert api.delete(url).status_code == 204
    assert not Expense.objects.exists()
