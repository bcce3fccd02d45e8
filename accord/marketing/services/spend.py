"""Ad spend read from an ad platform's export (Google Ads, Meta, Yandex Direct or a sheet
of one's own): a CSV of days, campaigns and amounts becomes each campaign's cost, one
expense per campaign and day through the billing services. Importing the file again sets
each day's amount rather than adding it twice; rows that cannot be read are reported
with their line and the rest are imported."""

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.billing.models import ExpenseCategory
from accord.billing.queries import expense_for_source
from accord.billing.services import expense_save
from accord.core.errors import message_of
from accord.core.money import is_currency, parse_decimal
from accord.marketing.models import Campaign
from accord.marketing.queries import campaigns_visible_to
from accord.marketing.services.campaigns import may_write_campaign

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
HEADERS = {
    "day": {"date", "day", "reporting starts", "дата", "день", "תאריך", "יום", "ամսաթիվ", "օր"},
    "campaign": {"campaign", "campaign name", "utm_campaign", "кампания", "название кампании",
                 "קמפיין", "שם הקמפיין", "արշավ"},
    "amount": {"amount", "cost", "spend", "spent", "amount spent", "расход", "расходы", "сумма",
               "стоимость", "затраты", "עלות", "סכום", "הוצאה", "ծախս", "գումար"},
    "currency": {"currency", "currency code", "валюта", "מטבע", "արժույթ"},
}  # fmt: skip
WRITTEN_DATES = ("%d.%m.%Y", "%Y/%m/%d", "%b %d, %Y", "%d %b %Y", "%d %B %Y", "%B %d, %Y")


@dataclass
class SpendReport:
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, what is wrong)


def _header(cell: str) -> tuple[str | None, str]:
    """What a column holds, and a currency its title names ("Amount spent (USD)")."""
    text = cell.strip().lstrip("\ufeff").lower()
    named = re.search(r"\(([a-z]{3})\)\s*$", text)
    text = re.sub(r"\s*\([^)]*\)\s*$", "", text)
    for key, names in HEADERS.items():
        if text in names:
            return key, named.group(1).upper() if named else ""
    return None, ""


def read_day(text: str) -> date | None:
    """A day as ad platforms write it; a slashed day that could be either (03/04/2026) is
    not guessed."""
    text = text.strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    for written in WRITTEN_DATES:
        try:
            return datetime.strptime(text, written).date()
        except ValueError:
            continue
    parts = text.split("/")
    if len(parts) == 3 and all(p.isdecimal() for p in parts) and len(parts[2]) == 4:
        first, second, year = (int(p) for p in parts)
        try:
            if first > 12 >= second:
                return date(year, second, first)
            if second > 12 >= first:
                return date(year, first, second)
        except ValueError:
            return None
    return None


def _text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError({"file": [_("The file is not text: export a CSV file.")]})


def _advertising() -> ExpenseCategory:
    categories = ExpenseCategory.objects.filter(retired=False).order_by("position", "pk")
    found = categories.filter(name="Advertising").first() or categories.first()
    if found is None:
        raise ValidationError({"file": [_("Add an expense category first (Settings → Money).")]})
    return found


def spend_import(*, actor: User, data: bytes, currency: str) -> SpendReport:
    """Read the file and record each campaign's day; the campaigns are the actor's to run."""
    if not may_write_campaign(actor):
        raise PermissionDenied(_("Your role does not run campaigns."))
    if len(data) > MAX_BYTES:
        raise ValidationError({"file": [_("The file is over 5 MB: export fewer days at a time.")]})
    text = _text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = csv.reader(io.StringIO(text), dialect)
    columns: dict[str, int] = {}
    named_currency = ""
    for index, cell in enumerate(next(rows, [])):
        key, in_title = _header(cell)
        if key and key not in columns:
            columns[key] = index
            named_currency = named_currency or in_title
    missing = [key for key in ("day", "campaign", "amount") if key not in columns]
    if missing:
        raise ValidationError({"file": [_(
            "The first line names the columns: a date, a campaign and an amount (cost, "
            "spend) are needed."
        )]})  # fmt: skip
    default = (named_currency or currency or "").upper()
    campaigns = list(campaigns_visible_to(actor, "write"))
    by_code = {c.code.lower(): c for c in campaigns if c.code}
    by_name = {c.name.lower(): c for c in campaigns}
    report = SpendReport()
    totals: dict[tuple[Campaign, date, str], Decimal] = defaultdict(Decimal)
    lines: dict[tuple[Campaign, date, str], int] = {}
    for line, row in enumerate(rows, start=2):
        if line > MAX_ROWS + 1:
            report.problems.append((line, _("Only the first 50,000 rows are read.")))
            break
        if not any(cell.strip() for cell in row):
            continue
        cell = {key: (row[i].strip() if i < len(row) else "") for key, i in columns.items()}
        day = read_day(cell["day"])
        amount = parse_decimal(cell["amount"].replace("\u202f", ""))
        wanted = cell["campaign"].lower()
        campaign = by_code.get(wanted) or by_name.get(wanted)
        money = (cell.get("currency") or default).upper()
        if day is None:
            report.problems.append((line, _("“%(text)s” is not a date; write it as 2026-03-04.")
                                    % {"text": cell["day"]}))  # fmt: skip
        elif amount is None or amount < 0:
            report.problems.append((line, _("“%(text)s” is not an amount.")
                                    % {"text": cell["amount"]}))  # fmt: skip
        elif campaign is None:
            report.problems.append((line, _("There is no campaign “%(name)s” of yours (its name "
                                            "or its utm_campaign code).")
                                    % {"name": cell["campaign"]}))  # fmt: skip
        elif not is_currency(money):
            report.problems.append((line, _("Name the currency: a column, or the file's.")))
        else:
            totals[(campaign, day, money)] += amount  # ad groups of one day add up
            lines.setdefault((campaign, day, money), line)
    category = _advertising() if totals else None
    for (campaign, day, money), amount in totals.items():
        key = f"ads:{campaign.pk}:{day.isoformat()}:{money}"
        before = expense_for_source(key)
        if before is not None and before.amount == amount:
            report.unchanged += 1
            continue
        try:
            with transaction.atomic():
                expense_save(actor=actor, expense=before, data={
                    "amount": amount, "currency": money, "spent_on": day, "category": category,
                    "campaign": campaign, "deal": None, "description": _("Ad spend"),
                    "supplier": str(campaign.channel), "source_key": key})  # fmt: skip
        except (ValidationError, PermissionDenied) as error:
            text = message_of(error) if isinstance(error, ValidationError) else str(error)
            report.problems.append((lines[(campaign, day, money)], text))
            continue
        if before is None:
            report.added += 1
        else:
            report.changed += 1
    report.problems.sort()
    return report
