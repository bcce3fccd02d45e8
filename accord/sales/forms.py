"""Forms of the deal screens: they read the request; the services validate and write."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accord.accounts.models import User
from accord.contacts.forms import company_picker, person_picker
from accord.core.ui.forms import CustomFieldsForm, tag_names
from accord.sales.models import LostReason, Pipeline, Stage


class DealForm(CustomFieldsForm):
    record_type = "deal"
    title = forms.CharField(label=_("Title"), max_length=200)
    person = person_picker(empty_label=_("Nobody yet"))
    company = company_picker()
    pipeline = forms.ModelChoiceField(
        label=_("Pipeline"), queryset=Pipeline.objects.none(), empty_label=None
    )
    amount = forms.DecimalField(
        label=_("Amount"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    currency = forms.CharField(label=_("Currency"), max_length=3)
    expected_close_date = forms.DateField(
        label=_("Expected close"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=User.objects.filter(is_active=True), required=False
    )
    source = forms.CharField(label=_("Source"), max_length=100, required=False)
    is_preorder = forms.BooleanField(label=_("Pre-order"), required=False)
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separate with commas."))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, people, companies, pipelines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
        self.fields["company"].queryset = companies
        self.fields["pipeline"].queryset = pipelines

    def service_data(self) -> dict:
        """The cleaned values as deal_create / deal_update take them."""
        data = {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "version" and not name.startswith("cf_") and not self.fields[name].disabled
        }
        if data.get("amount") is None:
            data.pop("amount", None)
        data["tags"] = tag_names(data.get("tags", ""))
        data["custom_fields"] = self.custom_data()
        return data


class LoseForm(forms.Form):
    reason = forms.ModelChoiceField(
        label=_("Why was it lost?"),
        queryset=LostReason.objects.filter(retired=False),
        empty_label=_("Choose a reason"),
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class MoveForm(forms.Form):
    """What the board sends after a drop: the column (an active stage of the deal's
    pipeline), the card the deal now follows there, and the version the board showed."""

    stage = forms.ModelChoiceField(
        queryset=Stage.objects.none(),
        error_messages={
            "required": _("Drop the deal on a column."),
            "invalid_choice": _("This column is not a stage of the deal's pipeline."),
        },
    )
    after = forms.ModelChoiceField(queryset=Stage.objects.none(), required=False)
    version = forms.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        error_messages={
            "required": _("The board sent no version of the deal; reload the page."),
            "invalid": _("The board sent a version that is not a number; reload the page."),
        },
    )

    def __init__(self, *args, deal, deals, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = deal.pipeline.stages.filter(retired=False)
        self.fields["after"].queryset = deals
        self.fields["after"].error_messages["invalid_choice"] = _(
            "The card above the dropped one is not on the board any more; reload the page."
        )

    def first_error(self) -> str:
        return next(iter(self.errors.values()))[0]


class LineItemForm(forms.Form):
    name = forms.CharField(label=_("Item"), max_length=200, required=False)
    quantity = forms.CharField(label=_("Quantity"), initial="1")
    unit_price = forms.CharField(label=_("Unit price"), required=False)
    discount_percent = forms.CharField(
        label=_("Discount, %"), required=False,
        help_text=_("Empty: the client's personal discount, if they have earned one."),
    )  # fmt: skip
    tax_percent = forms.CharField(
        label=_("Tax, %"), required=False, help_text=_("Empty: the product's own tax.")
    )
    tax_included = forms.BooleanField(label=_("Tax included in the price"), required=False)
