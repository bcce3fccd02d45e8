"""Reports of clients and marketing: new clients, leads and cost per channel."""

from decimal import Decimal

from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.contacts.queries import people_visible_to
from accord.core.company import company
from accord.marketing.queries import channel_results
from accord.reports.catalog.base import Column, Figures, Scope, bucketed, report, series_of


@report("new_clients", gettext_lazy("New clients"),
        gettext_lazy("People added as clients, over time."),
        ("number", "line", "bar", "table"), needs="clients")  # fmt: skip
def new_clients(scope: Scope) -> Figures:
    people = scope.owned(people_visible_to(scope.user)).filter(
        created_at__gte=scope.period.start, created_at__lt=scope.period.end
    )
    found = bucketed(scope, people, "created_at", people=Count("id"))
    rows = [{"label": scope.period.label(b), "people": found[b]["people"]}
            for b in scope.period.buckets()]  # fmt: skip
    labels, series = series_of(rows, "label", ("people", _("New clients")))
    return Figures(
        total_label=_("new clients"),
        columns=[Column("label", _("Period")), Column("people", _("New clients"), "int")],
        rows=rows if any(r["people"] for r in rows) else [],
        labels=labels,
        series=series,
        total=sum(r["people"] for r in rows),
    )


@report("channels", gettext_lazy("Leads and cost per channel"),
        gettext_lazy("Per channel: leads, deals and sales they brought, what the campaigns "
                     "spent, cost per lead and per sale, and the return. A channel that spends "
                     "without selling is flagged."),
        ("bar", "table"), filters=frozenset(), needs="campaigns")  # fmt: skip
def channels(scope: Scope) -> Figures:
    found = channel_results(scope.user, scope.period.since, scope.period.until)
    currency = scope.currency
    limit = company().max_cost_per_sale
    rows = []
    for channel, results in found:
        rows.append({
            "label": str(channel) if channel else _("Not known"), "leads": results.leads,
            "deals": results.deals, "won": results.won,
            "revenue": results.revenue.get(currency, Decimal(0)),
            "spent": results.spent.get(currency, Decimal(0)),
            "per_lead": results.per_lead(currency), "per_sale": results.per_sale(currency),
            "return": results.return_percent(currency),
            "flag": results.flag(currency, limit),
        })  # fmt: skip
    rows = [r for r in rows if r["leads"] or r["deals"] or r["spent"]]
    rows.sort(key=lambda r: (-r["leads"], str(r["label"])))
    labels, series = series_of(rows, "label", ("leads", _("Leads")), ("won", _("Sales")))
    return Figures(
        total_label=_("leads"),
        columns=[Column("label", _("Channel")), Column("leads", _("Leads"), "int"),
                 Column("deals", _("Deals"), "int"), Column("won", _("Sales"), "int"),
                 Column("spent", _("Spent"), "money"), Column("revenue", _("Revenue"), "money"),
                 Column("per_lead", _("Per lead"), "money"),
                 Column("per_sale", _("Per sale"), "money"),
                 Column("return", _("Return"), "percent")],
        rows=rows, labels=labels, series=series, total=sum(r["leads"] for r in rows),
        flagged=sum(1 for r in rows if r["flag"]),
    )  # fmt: skip
