"""API: money — one router, tagged "money", of the invoices, payments and expenses routers."""

from ninja import Router

from accord.billing.api import expenses, invoices, payments

router = Router(tags=["money"])
router.add_router("", invoices.router)
router.add_router("", payments.router)
router.add_router("", expenses.router)
