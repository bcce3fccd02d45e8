"""The step that invoices the rule's deal (its line items, issued and printed at once),
through billing's own services — once: a deal with an invoice that is not cancelled is
left as it is."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.automation.actions.registry import Action, ActionError, Step, register
from accord.billing.models import Invoice
from accord.billing.services import invoice_from_deal, invoice_issue
from accord.sales.models import Deal


def _check(params: dict, subject: str) -> list[str]:
    return []


def _run(step: Step, params: dict) -> str:
    deal = Deal.objects.select_related("owner").filter(pk=step.record_id or 0).first()
    if deal is None:
        raise ActionError(_("The deal is gone."), final=True)
    invoiced = (
        Invoice.objects.filter(deal=deal, kind=Invoice.INVOICE)
        .exclude(status__in=(Invoice.DRAFT, Invoice.CANCELLED))
        .first()
    )
    if invoiced is not None:
        return _("The deal has its invoice already: %(number)s") % {"number": invoiced.number}
    if step.dry_run:
        return _("Would issue an invoice for the deal")
    try:
        invoice = invoice_issue(
            actor=step.actor, invoice=invoice_from_deal(actor=step.actor, deal=deal)
        )
    except (ValidationError, PermissionDenied) as error:
        raise ActionError(" ".join(getattr(error, "messages", [str(error)])), final=True) from None
    step.made.setdefault("invoices", []).append(invoice.pk)
    return _("Issued invoice %(number)s") % {"number": invoice.number}


register(
    Action(
        "issue_invoice",
        gettext_lazy("Issue an invoice for the deal"),
        ("deal",),
        _check,
        _run,
        changes_record=False,
        traced=("deal",),
    )
)
