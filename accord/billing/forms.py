"""Forms of the money screens: they read the request; the services validate and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accord.billing.models import Expense, ExpenseCategory, Payment
from accord.billing.services.expenses import campaign_choices
from accord.contacts.forms import company_picker, person_picker
from accord.documents.fields import language_choices

DATE = {"type": "date"}
ISO = "%Y-%m-%d"  # what a date input takes, whatever the language


class InvoiceForm(forms.Form):
    person = person_picker()
    company = company_picker()
    currency = forms.CharField(label=_("Currency"), max_length=3)
    due_on = forms.DateField(
        label=_("Due date"), required=False, widget=forms.DateInput(DATE, format=ISO)
    )
    language = forms.ChoiceField(label=_("Language of the printed invoice"), required=False)
    note = forms.CharField(
        label=_("Note printed on the invoice"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip

    def __init__(self, *args, people, companies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
        self.fields["company"].queryset = companies
        self.fields["language"].choices = [("", _("The company's")), *language_choices()]


class LineForm(forms.Form):
    name = forms.CharField(label=_("Item"), max_length=200, required=False)
    quantity = forms.CharField(label=_("Qty"), required=False, max_length=20)
    unit = forms.CharField(label=_("Unit"), required=False, max_length=20)
    unit_price = forms.CharField(label=_("Price"), required=False, max_length=20)
    discount_percent = forms.CharField(label=_("Discount, %"), required=False, max_length=8)
    tax_percent = forms.CharField(label=_("Tax, %"), required=False, max_length=8)
    tax_included = forms.BooleanField(label=_("Tax in the price"), required=False)


LineFormSet = forms.formset_factory(LineForm, extra=2, max_num=200, absolute_max=200)


class PaymentForm(forms.Form):
    amount = forms.CharField(label=_("Amount"), max_length=20)
    currency = forms.CharField(label=_("Currency"), max_length=3)
    rate = forms.CharField(
        label=_("Rate"), required=False, max_length=20,
        help_text=_("Only for money in another currency: how much of the invoice's currency one "
                    "unit of it was."),
    )  # fmt: skip
    received_on = forms.DateField(label=_("Date"), widget=forms.DateInput(DATE, format=ISO))
    method = forms.ChoiceField(
        label=_("Method"), choices=[(k, v) for k, v in Payment.METHODS if k in Payment.RECEIVED]
    )
    reference = forms.CharField(label=_("Reference"), required=False, max_length=200)


class RefundForm(forms.Form):
    amount = forms.CharField(label=_("Amount"), max_length=20)
    received_on = forms.DateField(label=_("Date"), widget=forms.DateInput(DATE, format=ISO))
    method = forms.ChoiceField(
        label=_("Method"), choices=[(k, v) for k, v in Payment.METHODS if k in Payment.RECEIVED]
    )
    note = forms.CharField(label=_("Why"), required=False, max_length=2000)


class ExpenseForm(forms.Form):
    spent_on = forms.DateField(label=_("Date"), widget=forms.DateInput(DATE, format=ISO))
    amount = forms.CharField(label=_("Amount"), max_length=20)
    currency = forms.CharField(label=_("Currency"), max_length=3)
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=ExpenseCategory.objects.filter(retired=False)
    )
    campaign = forms.ModelChoiceField(
        label=_("Campaign"),
        required=False,
        queryset=Expense.campaign.field.related_model.objects.none(),
        help_text=_("Counted in the campaign's cost"),
    )
    supplier = forms.CharField(label=_("Supplier"), required=False, max_length=200)
    description = forms.CharField(label=_("Description"), required=False, max_length=500)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaign_choices(user)


class LoyaltyForm(forms.Form):
    enabled = forms.BooleanField(label=_("Clients earn loyalty points"), required=False)
    currency = forms.CharField(label=_("Currency"), max_length=3)
    earn_per = forms.CharField(label=_("One point for each"), max_length=20,
                               help_text=_("paid, in this currency"))  # fmt: skip
    point_value = forms.CharField(label=_("A point is worth"), max_length=20,
                                  help_text=_("when it pays an invoice"))  # fmt: skip


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("New category"), max_length=100)
