"""A bank statement's CSV turned into payments: each incoming line is matched to an open
invoice by the number written in its purpose (or, without one, by its amount when exactly
one open invoice asks for it) and recorded through `payment_record`; what matches nothing
is listed for a person to record by hand. A line imported before is not recorded twice."""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.billing.models import Invoice, Payment
from accord.billing.queries import invoices_visible_to
from accord.billing.services.common import clean_currency, require_write
from accord.billing.services.payments import payment_record
from accord.core.money import parse_decimal

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
# The columns' titles as banks and people write them, in Accord's four languages.
COLUMNS = {
    "date": ("date", "value date", "booking date", "дата", "дата операции", "дата платежа",
             "תאריך", "תאריך ערך", "ամսաթիվ"),
    "amount": ("amount", "credit", "sum", "сумма", "приход", "кредит", "סכום", "זכות",
               "գումար", "մուտք"),
    "currency": ("currency", "валюта", "מטבע", "արժույթ"),
    "purpose": ("purpose", "description", "details", "reference", "memo", "назначение",
                "назначение платежа", "описание", "תיאור", "פרטים", "אסמכתא", "նպատակ",
                "նկարագրություն"),
    "payer": ("payer", "from", "counterparty", "плательщик", "контрагент", "משלם",
              "վճարող"),
}  # fmt: skip
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%d.%m.%y", "%m/%d/%Y")
NUMBER = re.compile(r"[A-ZА-Я0-9]{1,12}-\d{4}-\d{3,}", re.IGNORECASE)


@dataclass
class Line:
    row: int
    day: date | None
    amount: Decimal | None
    currency: str
    purpose: str
    payer: str
    invoice: str = ""  # the number it was matched to
    outcome: str = ""  # matched, unmatched, already, outgoing, bad
    reason: str = ""


@dataclass
class Statement:
    lines: list[Line] = field(default_factory=list)

    def of(self, outcome: str) -> list[Line]:
        return [line for line in self.lines if line.outcome == outcome]


def bank_import(*, actor: User, content: bytes, currency: str) -> Statement:
    """Read the statement and record what matches; answers every line with its outcome."""
    require_write(actor)
    errors: dict = {}
    currency = clean_currency(currency, errors)
    if len(content) > MAX_BYTES:
        errors["file"] = [_("The file is larger than 5 MB.")]
    if errors:
        raise ValidationError(errors)
    statement = Statement(_read(content, currency))
    for line in statement.lines:
        if line.outcome:
            continue
        try:
            with transaction.atomic():
                _apply(actor, line)
        except (ValidationError, PermissionDenied) as error:
            line.outcome = "unmatched"
            line.reason = " ".join(getattr(error, "messages", [str(error)]))
    return statement


def _read(content: bytes, currency: str) -> list[Line]:
    try:
        return _lines(_decode(content).replace("\x00", ""), currency)
    except csv.Error:  # a bare line break inside a line, a field past the csv module's limit
        raise ValidationError({"file": [_("The file cannot be read as CSV.")]}) from None


def _lines(text: str, currency: str) -> list[Line]:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
    rows = csv.reader(io.StringIO(text), dialect)
    header = [cell.strip().lower() for cell in next(rows, [])]
    where = {name: next((i for i, title in enumerate(header) if title in titles), None)
             for name, titles in COLUMNS.items()}  # fmt: skip
    missing = [name for name in ("date", "amount") if where[name] is None]
    if missing:
        raise ValidationError(
            {"file": [_("The statement needs a date column and an amount column; the first "
                        "line names the columns (found: %(found)s).")
                      % {"found": ", ".join(header) or "—"}]}
        )  # fmt: skip
    lines = []
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(lines) >= MAX_ROWS:
            raise ValidationError(
                {"file": [_("A statement holds at most %(count)s lines.") % {"count": MAX_ROWS}]}
            )

        cells = {name: _cell(row, index) for name, index in where.items()}
        line = Line(number, _day(cells["date"]), parse_decimal(cells["amount"]),
                    (cells["currency"] or currency).upper(), cells["purpose"][:500],
                    cells["payer"][:200])  # fmt: skip
        if line.day is None or line.amount is None:
            line.outcome, line.reason = "bad", _("The date or the amount cannot be read.")
        elif line.amount <= 0:
            line.outcome, line.reason = "outgoing", _("Money paid out, not received.")
        lines.append(line)
    return lines


def _cell(row: list[str], index: int | None) -> str:
    return row[index].strip() if index is not None and index < len(row) else ""


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1251", "cp1255"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError({"file": [_("The file is not text (CSV).")]})


def _day(text: str) -> date | None:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _apply(actor: User, line: Line) -> None:
    reference = (line.purpose or line.payer)[:200]
    if Payment.objects.filter(
        method=Payment.BANK,
        received_on=line.day,
        amount=line.amount,
        currency=line.currency,
        reference=reference,
    ).exists():
        line.outcome = "already"
        return
    invoice, why = _match(actor, line)
    if invoice is None:
        line.outcome, line.reason = "unmatched", why
        return
    if line.day > timezone.localdate():
        line.outcome, line.reason = "bad", _("A payment's date cannot be in the future.")
        return
    payment_record(actor=actor, invoice=invoice, amount=line.amount, currency=line.currency,
                   received_on=line.day, method=Payment.BANK, reference=reference,
                   note=line.payer)  # fmt: skip
    line.outcome, line.invoice = "matched", invoice.number


def _match(actor: User, line: Line) -> tuple[Invoice | None, str]:
    waiting = invoices_visible_to(actor).filter(
        kind=Invoice.INVOICE, status__in=Invoice.OPEN, currency=line.currency
    )
    numbers = {found.upper() for found in NUMBER.findall(line.purpose)}
    if numbers:
        named = list(waiting.filter(number__in=numbers))
        if len(named) == 1:
            return named[0], ""
        if not named:
            return None, _("No invoice waiting for payment has the number %(numbers)s.") % {
                "numbers": ", ".join(sorted(numbers))
            }
        return None, _("The purpose names several invoices: record it by hand.")
    by_amount = list(waiting.annotate(left=F("total") - F("paid")).filter(left=line.amount)[:2])
    if len(by_amount) == 1:
        return by_amount[0], ""
    if not by_amount:
        return None, _("No invoice number in the purpose, and no invoice waits for this amount.")
    return None, _("No invoice number in the purpose, and several invoices wait for this amount.")
