"""The campaign's and the channel's forms."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accord.comms.models import Messenger
from accord.marketing.models import Campaign, Channel, Survey

DATE = {"type": "date"}
ISO = "%Y-%m-%d"


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    channel = forms.ModelChoiceField(label=_("Channel"), queryset=Channel.objects.none())
    code = forms.CharField(
        label=_("Code in links (utm_campaign)"),
        max_length=60,
        required=False,
        help_text=_("Leads whose link says utm_campaign=this code count to the campaign."),
    )
    budget = forms.CharField(label=_("Budget"), max_length=20, required=False)
    currency = forms.CharField(label=_("Currency"), max_length=3)
    starts_on = forms.DateField(
        label=_("Starts"), required=False, widget=forms.DateInput(DATE, format=ISO)
    )
    ends_on = forms.DateField(
        label=_("Ends"), required=False, widget=forms.DateInput(DATE, format=ISO)
    )
    note = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea({"rows": 3})
    )
    retired = forms.BooleanField(label=_("Finished"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = Channel.objects.filter(retired=False)


class ChannelForm(forms.Form):
    name = forms.CharField(label=_("New channel"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=Channel.KINDS)
    code = forms.CharField(
        label=_("Code in links (utm_source)"),
        max_length=40,
        required=False,
        help_text=_("Such as google or instagram; made from the name if left empty."),
    )


class LeadLineForm(forms.Form):
    """A number or a bot, and where the clients it brings count."""

    number = forms.CharField(
        label=_("Phone number"),
        max_length=40,
        required=False,
        help_text=_("The number clients call, such as the one printed on an advert."),
    )
    messenger = forms.ModelChoiceField(
        label=_("or a messenger bot"), queryset=Messenger.objects.none(), required=False
    )
    channel = forms.ModelChoiceField(label=_("Channel"), queryset=Channel.objects.none())
    campaign = forms.ModelChoiceField(
        label=_("Campaign"), queryset=Campaign.objects.none(), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["messenger"].queryset = Messenger.objects.order_by("name")
        self.fields["channel"].queryset = Channel.objects.filter(retired=False)
        self.fields["campaign"].queryset = Campaign.objects.filter(retired=False).order_by("name")


class SpendForm(forms.Form):
    file = forms.FileField(
        label=_("The ad platform's export (CSV)"),
        help_text=_("Columns: a date, the campaign (its name or utm_campaign code), the amount "
                    "(cost, spend) and, if it varies, the currency. Each campaign's day is "
                    "recorded once: importing the file again changes nothing."),
    )  # fmt: skip
    currency = forms.CharField(
        label=_("Currency"),
        max_length=3,
        help_text=_("When the file names none (in a column or a title such as “Cost (USD)”)."),
    )


class SurveyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    scale = forms.ChoiceField(label=_("Scale"), choices=Survey.SCALES)
    question = forms.CharField(label=_("Question"), max_length=300)
    comment_prompt = forms.CharField(
        label=_("Ask for a comment"), max_length=300, required=False,
        help_text=_("Such as: What should we do better?"),
    )  # fmt: skip
    invitation = forms.CharField(
        label=_("Invitation"), max_length=1000, required=False,
        widget=forms.Textarea({"rows": 3}),
        help_text=_("The words before the link in the e-mail or message."),
    )  # fmt: skip
    thanks_text = forms.CharField(
        label=_("Thank-you text"), max_length=1000, required=False,
        widget=forms.Textarea({"rows": 2}),
    )  # fmt: skip
    low_score = forms.IntegerField(
        label=_("A low score is at most"), min_value=0, max_value=10,
        help_text=_("A score at or below it makes a task for the head of the rated manager's "
                    "team to call the client."),
    )  # fmt: skip
    retired = forms.BooleanField(label=_("Switched off"), required=False)


class CostLimitForm(forms.Form):
    limit = forms.DecimalField(
        label=_("Flag a channel or campaign whose sale costs more than"), required=False,
        min_value=Decimal("0.01"), max_digits=14, decimal_places=2,
        help_text=_("In the company's main currency; empty: flag only those that sell nothing."),
    )  # fmt: skip
