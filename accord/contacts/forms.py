"""Forms of the client screens: they read the request; the services validate and write."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accord.accounts.models import Team, User
from accord.contacts.models import Company, Person
from accord.core.ui.forms import CustomFieldsForm, tag_names
from accord.core.ui.widgets import RecordPicker

MAX_POINTS = 5


def contact_rows(data, kind: str) -> list[dict]:
    """The repeated phone / e-mail rows of a form, as service input."""
    values = data.getlist(f"{kind}_value")
    labels = data.getlist(f"{kind}_label")
    key = "number" if kind == "phone" else "address"
    rows = []
    for index, value in enumerate(values[:MAX_POINTS]):
        if value.strip():
            rows.append({key: value, "label": labels[index] if index < len(labels) else ""})
    return rows


def person_picker(empty_label=None) -> forms.ModelChoiceField:
    """A person chosen by search (the queryset is set to the visible people by the form)."""
    return forms.ModelChoiceField(
        label=_("Person"),
        queryset=Person.objects.none(),
        required=False,
        empty_label=empty_label or _("Nobody"),
        widget=RecordPicker("people"),
    )


def company_picker() -> forms.ModelChoiceField:
    """A company chosen by search (the queryset is set to the visible companies)."""
    return forms.ModelChoiceField(
        label=_("Company"),
        queryset=Company.objects.none(),
        required=False,
        empty_label=_("No company"),
        widget=RecordPicker("companies"),
    )


class ClientForm(CustomFieldsForm):
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=User.objects.filter(is_active=True),
        required=False,
        empty_label=_("Nobody"),
    )
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        required=False,
        help_text=_("Two-letter code: DE, IL, AM, RU…"),
    )
    address = forms.CharField(
        label=_("Address"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    source = forms.CharField(
        label=_("Source"),
        max_length=100,
        required=False,
        help_text=_("Where the client came from: web site, referral, fair…"),
    )
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separate with commas."))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def service_data(self, data) -> dict:
        """Only the fields the form showed, so a short form never blanks the others."""
        clean = {
            name: self.cleaned_data[name]
            for name in self.changed_or_shown()
            if not name.startswith("cf_")
        }
        if "full" in data:
            clean["custom_fields"] = self.custom_data()
        if clean.get("kind") == "":
            del clean["kind"]
        if "tags" in clean:
            clean["tags"] = tag_names(clean["tags"])
        clean.pop("version", None)
        clean["phones"] = contact_rows(data, "phone")
        clean["emails"] = contact_rows(data, "email")
        return clean

    def changed_or_shown(self) -> list[str]:
        return [name for name in self.fields if name in self.data]


class PersonForm(ClientForm):
    record_type = "person"
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    middle_name = forms.CharField(label=_("Middle name"), max_length=100, required=False)
    kind = forms.ChoiceField(label=_("Stage"), choices=Person.KINDS, required=False)
    company = company_picker()
    birthday = forms.DateField(
        label=_("Birthday"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    gender = forms.ChoiceField(label=_("Gender"), choices=Person.GENDERS, required=False)
    marketing_consent = forms.BooleanField(label=_("Agrees to receive offers"), required=False)
    language = forms.ChoiceField(
        label=_("Writes in"),
        choices=[("", _("The company's language")), *settings.LANGUAGES],
        required=False,
        help_text=_("E-mails from templates and mailings reach them in this language."),
    )

    field_order = ["first_name", "last_name", "middle_name", "kind", "company", "owner"]

    def __init__(self, *args, companies=None, distribute: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if companies is not None:
            self.fields["company"].queryset = companies
        teams = Team.objects.exclude(lead_rule="")
        if distribute and teams.exists():
            self.fields["assign_team"] = forms.ModelChoiceField(
                label=_("Or let a team choose the owner"),
                queryset=teams,
                required=False,
                empty_label="—",
                help_text=_("The team's rule gives the lead to a member at work now."),
            )

    def service_data(self, data) -> dict:
        clean = super().service_data(data)
        if not clean.get("assign_team"):
            clean.pop("assign_team", None)
        return clean

    def changed_or_shown(self) -> list[str]:
        shown = super().changed_or_shown()
        if "marketing_consent" not in shown and "full" in self.data:
            shown.append("marketing_consent")  # an unticked box sends nothing
        return shown


class CompanyForm(ClientForm):
    record_type = "company"
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Company.KINDS, required=False)
    website = forms.CharField(label=_("Website"), max_length=200, required=False)

    field_order = ["name", "kind", "owner"]


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 2})
    )
