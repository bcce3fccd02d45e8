from django.urls import path

from accord.billing import views

urlpatterns = [
    path("money/", views.money_home, name="money"),
    path("money/invoices/", views.invoices, name="invoices"),
    path("money/invoices/new/", views.invoice_edit, name="invoice_new"),
    path("money/invoices/<int:invoice_id>/", views.invoice_detail, name="invoice_detail"),
    path("money/invoices/<int:invoice_id>/edit/", views.invoice_edit, name="invoice_edit"),
    path("money/invoices/<int:invoice_id>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path(
        "money/invoices/<int:invoice_id>/<slug:action>/",
        views.invoice_action,
        name="invoice_action",
    ),
    path("money/deal/<int:deal_id>/", views.deal_panel, name="deal_invoices"),
    path("money/client/", views.client_panel, name="client_invoices"),
    path("money/payments/", views.payments, name="payments"),
    path("money/payments/bank/", views.bank_statement, name="bank_statement"),
    path("money/payments/<int:payment_id>/remove/", views.payment_remove, name="payment_remove"),
    path("money/expenses/", views.expenses, name="expenses"),
    path("money/expenses/<int:expense_id>/remove/", views.expense_remove, name="expense_remove"),
    path("money/report/", views.money_report, name="money_report"),
    path("settings/money/", views.money_settings, name="settings_money"),
]
