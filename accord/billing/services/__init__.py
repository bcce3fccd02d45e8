"""Every write of invoices, payments and expenses."""

from accord.billing.services.expenses import (
    category_save,
    expense_delete,
    expense_save,
)
from accord.billing.services.invoices import (
    apply_credit,
    invoice_cancel,
    invoice_correct,
    invoice_delete_draft,
    invoice_from_deal,
    invoice_issue,
    invoice_save,
)
from accord.billing.services.loyalty import program_save
from accord.billing.services.payments import (
    client_credit,
    loyalty_redeem,
    payment_delete,
    payment_record,
    refund_record,
)

__all__ = [
    "apply_credit",
    "category_save",
    "client_credit",
    "expense_delete",
    "expense_save",
    "invoice_cancel",
    "invoice_correct",
    "invoice_delete_draft",
    "invoice_from_deal",
    "invoice_issue",
    "invoice_save",
    "loyalty_redeem",
    "payment_delete",
    "payment_record",
    "program_save",
    "refund_record",
]
