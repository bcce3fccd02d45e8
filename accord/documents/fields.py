"""The merge fields a document template may name, and their values for one deal: the
client, the client's company, the deal (its custom fields too), its line items, the user,
our company and the document itself — money and dates written as the document's language
writes them, the total also in words."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, get_currency_precision
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.core.custom_fields import active_fields
from accord.core.models import CompanyProfile
from accord.core.money import line_sums
from accord.core.phones import display_phone
from accord.documents.words import amount_in_words

LIST_OF = "[]"  # in a schema, what each element of a list holds
# Fields whose emptiness is an answer, not a gap: no discount, no tax.
EMPTY_IS_AN_ANSWER = {
    "items.discount",
    "items.tax",
    "deal.tax",
    "invoice.due_date",
    "invoice.corrects",
    "invoice.note",
}

CLIENT = {
    "name": gettext_lazy("name"),
    "first_name": gettext_lazy("first name"),
    "last_name": gettext_lazy("last name"),
    "middle_name": gettext_lazy("middle name"),
    "email": gettext_lazy("e-mail"),
    "phone": gettext_lazy("phone"),
    "address": gettext_lazy("address"),
    "city": gettext_lazy("city"),
    "country": gettext_lazy("country"),
}
COMPANY = {
    "name": gettext_lazy("name"),
    "email": gettext_lazy("e-mail"),
    "phone": gettext_lazy("phone"),
    "address": gettext_lazy("address"),
    "city": gettext_lazy("city"),
    "country": gettext_lazy("country"),
    "website": gettext_lazy("website"),
}
DEAL = {
    "title": gettext_lazy("title"),
    "number": gettext_lazy("number"),
    "pipeline": gettext_lazy("pipeline"),
    "stage": gettext_lazy("stage"),
    "currency": gettext_lazy("currency"),
    "expected_close": gettext_lazy("expected close"),
    "subtotal": gettext_lazy("sum without tax"),
    "tax": gettext_lazy("tax"),
    "total": gettext_lazy("total"),
    "total_in_words": gettext_lazy("total in words"),
}
ITEM = {
    "number": gettext_lazy("line number"),
    "name": gettext_lazy("name"),
    "quantity": gettext_lazy("quantity"),
    "unit": gettext_lazy("unit"),
    "price": gettext_lazy("unit price"),
    "discount": gettext_lazy("discount, %"),
    "tax": gettext_lazy("tax, %"),
    "total": gettext_lazy("total"),
}
USER = {
    "name": gettext_lazy("name"),
    "email": gettext_lazy("e-mail"),
    "phone": gettext_lazy("phone"),
}
OUR = {
    "name": gettext_lazy("company name"),
    "address": gettext_lazy("address"),
    "tax_id": gettext_lazy("tax id"),
    "bank_details": gettext_lazy("bank details"),
    "logo": gettext_lazy("logo (an image's address)"),
    "signature": gettext_lazy("signature (an image's address)"),
    "stamp": gettext_lazy("stamp (an image's address)"),
}
# An invoice's own facts (empty in a document made from a deal alone).
INVOICE = {
    "due_date": gettext_lazy("due date"),
    "corrects": gettext_lazy("the number of the invoice it corrects"),
    "note": gettext_lazy("note"),
}
DOCUMENT = {
    "number": gettext_lazy("number"),
    "date": gettext_lazy("date"),
    "title": gettext_lazy("title"),
    "version": gettext_lazy("version"),
}

# The words the shipped templates print, in the document's language ({{ label.invoice }}).
LABELS = {
    "offer": gettext_lazy("Commercial offer"),
    "contract": gettext_lazy("Contract"),
    "invoice": gettext_lazy("Invoice"),
    "act": gettext_lazy("Act of delivery"),
    "credit_note": gettext_lazy("Credit note"),
    "corrects": gettext_lazy("Corrects invoice"),
    "due_date": gettext_lazy("Pay by"),
    "number": gettext_lazy("No."),
    "date": gettext_lazy("Date"),
    "supplier": gettext_lazy("Supplier"),
    "buyer": gettext_lazy("Buyer"),
    "client": gettext_lazy("Client"),
    "tax_id": gettext_lazy("Tax id"),
    "bank_details": gettext_lazy("Bank details"),
    "address": gettext_lazy("Address"),
    "item": gettext_lazy("Item"),
    "quantity": gettext_lazy("Qty"),
    "unit": gettext_lazy("Unit"),
    "price": gettext_lazy("Price"),
    "discount": gettext_lazy("Discount"),
    "tax": gettext_lazy("Tax"),
    "total": gettext_lazy("Total"),
    "subtotal": gettext_lazy("Without tax"),
    "in_words": gettext_lazy("In words"),
    "valid_until": gettext_lazy("The offer is valid for 30 days."),
    "offer_intro": gettext_lazy("Thank you for your interest. We are glad to offer:"),
    "contact_person": gettext_lazy("Your contact"),
    "signature": gettext_lazy("Signature"),
    "for_seller": gettext_lazy("For the seller"),
    "for_buyer": gettext_lazy("For the buyer"),
    "contract_subject_title": gettext_lazy("1. Subject of the contract"),
    "contract_subject": gettext_lazy(
        "The supplier undertakes to deliver the goods and perform the work listed below, "
        "and the client undertakes to accept and pay for them."
    ),
    "contract_price_title": gettext_lazy("2. Price and payment"),
    "contract_price": gettext_lazy(
        "The price of the contract is the total above. The client pays it against the "
        "supplier's invoice within ten banking days of its date."
    ),
    "contract_terms_title": gettext_lazy("3. Delivery and acceptance"),
    "contract_terms": gettext_lazy(
        "Delivery is confirmed by an act signed by both parties. Claims about quality are "
        "made in writing within fourteen days of delivery."
    ),
    "contract_parties_title": gettext_lazy("4. The parties"),
    "act_text": gettext_lazy(
        "The work and goods listed below were delivered in full and on time. The client has "
        "no claims about their scope, quality or timing."
    ),
}


@dataclass(frozen=True)
class Schema:
    """What a template may name: each root, and below it its fields (a dict), or a list's
    element under LIST_OF; custom fields under `fields`."""

    roots: dict


def schema() -> Schema:
    def custom(*record_types: str) -> dict:
        return {f.key: f.label for record_type in record_types for f in active_fields(record_type)}

    return Schema(
        {
            "document": DOCUMENT,
            "client": {**CLIENT, "fields": custom("person", "company")},
            "company": {**COMPANY, "fields": custom("company")},
            "deal": {**DEAL, "fields": custom("deal")},
            "items": {LIST_OF: ITEM},
            "invoice": INVOICE,
            "user": USER,
            "our_company": OUR,
            "label": dict(LABELS),
            "today": gettext_lazy("today's date"),
        }
    )


@dataclass(frozen=True)
class Line:
    """One line of a document: what it sells, and its sums in the document's currency."""

    name: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_percent: Decimal
    tax_percent: Decimal
    net: Decimal
    total: Decimal


def deal_lines(deal) -> list[Line]:
    """A deal's line items as document lines (tax on top or in the price, each line rounded)."""
    lines = []
    for item in deal.line_items.all():
        net, total = line_sums(item, deal.currency)
        lines.append(
            Line(item.name, item.quantity, item.unit, item.unit_price, item.discount_percent,
                 item.tax_percent, net, total)
        )  # fmt: skip
    return lines


def values_for(
    *,
    user,
    language: str,
    number: str,
    title: str,
    version: int,
    issued_on: date,
    deal=None,
    person=None,
    company=None,
    currency: str = "",
    lines: list[Line] | None = None,
    invoice: dict | None = None,
) -> dict:
    """Every field of the schema, as text in `language` (empty where the record has
    nothing: the preview warns of those). A deal's document takes its client and lines
    from the deal; an invoice passes its own lines, client and `invoice` facts."""
    if deal is not None:
        person = person if person is not None else deal.person
        company = company if company is not None else deal.company
        currency = currency or deal.currency
        lines = deal_lines(deal) if lines is None else lines
    lines = lines or []
    with translation.override(language):
        shape = schema().roots
        money = _Money(currency, language)
        items = [
            {
                "number": str(number_in_list),
                "name": line.name,
                "quantity": format_decimal(line.quantity.normalize(), locale=language),
                "unit": line.unit,
                "price": money.text(line.unit_price),
                "discount": _percent(line.discount_percent, language),
                "tax": _percent(line.tax_percent, language),
                "total": money.text(line.total),
            }
            for number_in_list, line in enumerate(lines, start=1)
        ]
        subtotal = sum((line.net for line in lines), Decimal(0))
        total = sum((line.total for line in lines), Decimal(0))
        if not lines:
            subtotal = total = deal.amount if deal is not None else Decimal(0)
        tax = total - subtotal
        client = person or company
        company = company or (person.company if person else None)
        profile = CompanyProfile.current()
        values = {
            "document": {
                "number": number,
                "date": _date(issued_on, language),
                "title": _(title),
                "version": str(version),
            },
            "client": {**_client(client, language), "fields": _custom(client, shape["client"])},
            "company": {
                **_company(company, language),
                "fields": _custom(company, shape["company"]),
            },
            "deal": {
                **_deal(deal, language),
                "currency": currency,
                "subtotal": money.text(subtotal),
                "tax": money.text(tax) if tax else "",
                "total": money.text(total),
                "total_in_words": amount_in_words(total, currency, language) if currency else "",
                "fields": _custom(deal, shape["deal"], language),
            },
            "items": items,
            "invoice": {
                "due_date": _date((invoice or {}).get("due_date"), language),
                "corrects": (invoice or {}).get("corrects", ""),
                "note": (invoice or {}).get("note", ""),
            },
            "user": {
                "name": user.full_name or user.email,
                "email": user.email,
                "phone": getattr(user, "phone", "") or "",
            },
            "our_company": {
                "name": profile.name,
                "address": profile.address,
                "tax_id": profile.tax_id,
                "bank_details": profile.bank_details,
                **{name: _image(getattr(profile, name)) for name in ("logo", "signature", "stamp")},
            },
            "label": {key: str(text) for key, text in LABELS.items()},
            "today": _date(issued_on, language),
        }
    return values


def _deal(deal, language: str) -> dict:
    if deal is None:
        return {"title": "", "number": "", "pipeline": "", "stage": "", "expected_close": ""}
    return {
        "title": deal.title,
        "number": str(deal.pk),
        "pipeline": str(deal.pipeline),
        "stage": str(deal.stage),
        "expected_close": _date(deal.expected_close_date, language),
    }


class _Money:
    def __init__(self, currency: str, language: str):
        self.currency, self.language = currency, language
        self.exponent = Decimal(1).scaleb(-get_currency_precision(currency))

    def round(self, amount: Decimal) -> Decimal:
        return Decimal(amount).quantize(self.exponent, rounding=ROUND_HALF_UP)

    def text(self, amount: Decimal) -> str:
        return format_currency(self.round(amount), self.currency, locale=self.language)


def _image(image) -> str:
    """A company picture's address for the PDF (a file of ours: the PDF's fetcher allows it)."""
    return Path(image.path).as_uri() if image else ""


def _percent(value: Decimal, language: str) -> str:
    return f"{format_decimal(value.normalize(), locale=language)} %" if value else ""


def _date(value: date | None, language: str) -> str:
    return format_date(value, format="long", locale=language) if value else ""


def _client(client, language: str) -> dict:
    if client is None:
        return dict.fromkeys(CLIENT, "")
    person = hasattr(client, "first_name")
    return {
        "name": str(client),
        "first_name": client.first_name if person else "",
        "last_name": client.last_name if person else "",
        "middle_name": client.middle_name if person else "",
        "email": client.primary_email,
        "phone": display_phone(client.primary_phone) if client.primary_phone else "",
        "address": client.address,
        "city": client.city,
        "country": _country(client.country, language),
    }


def _company(company, language: str) -> dict:
    if company is None:
        return dict.fromkeys(COMPANY, "")
    return {
        **{key: value for key, value in _client(company, language).items() if key in COMPANY},
        "website": company.website,
    }


def _country(code: str, language: str) -> str:
    return Locale.parse(language).territories.get(code.upper(), code) if code else ""


def _custom(record, shape: dict, language: str = "en") -> dict:
    keys = shape.get("fields", {})
    stored = (record.custom_fields or {}) if record is not None else {}
    return {key: _plain(stored.get(key), language) for key in keys}


def _plain(value, language: str) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, int | float | Decimal):
        return format_decimal(value, locale=language)
    return str(value)


def language_choices() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]
