"""API: money — one router, tagged "money", of the invoices, payments, expenses and loyalty
routers."""

from ninja import Router

from accord.billing.api import expenses, invoices, loyalty, payments

router = Router(tags=["money"])
router.add_router("", invoices.router)
router.add_router("", payments.router)
router.add_router("", expenses.router)
router.add_router("", loyalty.router)
