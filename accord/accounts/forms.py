"""Forms for the account screens: they parse and render; the services validate and write."""

from zoneinfo import available_timezones

import babel
from babel.numbers import list_currencies
from django import forms
from django.conf import settings
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext_lazy as _
from phonenumbers import country_code_for_region as code_of

from accord.accounts.models import Role, Team, User
from accord.core.models import CompanyProfile
from accord.core.phones import country_names
from accord.core.visibility import CAPABILITIES, LEVELS, RECORD_TYPES

LEVEL_LABELS = {
    "all": _("All"),
    "team": _("Team"),
    "own": _("Own"),
    "none": _("None"),
}
RECORD_TYPE_LABELS = {
    "clients": _("Clients"),
    "deals": _("Deals"),
    "tasks": _("Tasks"),
    "activities": _("Activities"),
    "documents": _("Documents"),
    "invoices": _("Invoices"),
    "campaigns": _("Campaigns"),
    "reports": _("Reports"),
    "settings": _("Settings"),
}
CAPABILITY_LABELS = {
    "export": _("Export data"),
    "import": _("Import data"),
    "delete": _("Delete records"),
    "manage_users": _("Manage users, teams and roles"),
    "manage_automation": _("Manage automation"),
}


def time_zone_choices():
    return [("", _("The company's time zone"))] + [
        (name, name.replace("_", " ")) for name in sorted(available_timezones())
    ]


def language_choices():
    return [("", _("The browser's language"))] + [(code, name) for code, name in settings.LANGUAGES]


class ProfileForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    language = forms.ChoiceField(label=_("Language"), required=False, choices=language_choices)
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False, choices=time_zone_choices)
    theme = forms.ChoiceField(label=_("Theme"), choices=User._meta.get_field("theme").choices)


class PasswordForm(forms.Form):
    old_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("New password"),
        strip=False,
        help_text=_("At least 10 characters; not a common password, not only digits."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=100)


class UserForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"))
    role = forms.ModelChoiceField(label=_("Role"), queryset=Role.objects.all(), empty_label=None)
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.all(), required=False, empty_label=_("No team")
    )


class NewUserForm(UserForm):
    password = forms.CharField(
        label=_("First password"),
        strip=False,
        help_text=_("Tell it to the person; they choose their own at first login."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    head = forms.ModelChoiceField(
        label=_("Head"),
        queryset=User.objects.filter(is_active=True),
        required=False,
        empty_label=_("No head"),
    )
    escalation_minutes = forms.IntegerField(
        label=_("Tell the head about an overdue task after, minutes"),
        required=False,
        min_value=0,
        max_value=7 * 24 * 60,
        help_text=_(
            "Empty: never. 15 means a web request not called back within 15 minutes "
            "of its due time reaches the head."
        ),
    )
    lead_rule = forms.ChoiceField(
        label=_("New leads"),
        choices=[("", _("Not distributed")), *Team.LEAD_RULES],
        required=False,
        help_text=_(
            "Leads created for the team get an owner among the members at work now: in "
            "turn, the one with the least work, or one person (the others while they are away)."
        ),
    )
    lead_user = forms.ModelChoiceField(
        label=_("Leads go to"),
        queryset=User.objects.filter(is_active=True),
        required=False,
        empty_label="—",
        help_text=_("For the rule “One person”."),
    )
    members = forms.ModelMultipleChoiceField(
        label=_("Members"),
        queryset=User.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class RoleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    require_two_factor = forms.BooleanField(
        label=_("Require a second factor (authenticator app) at login"), required=False
    )
    takes_leads = forms.BooleanField(
        label=_("Takes new leads"), required=False,
        help_text=_("A team's rule for new leads gives them only to members whose role "
                    "takes them: not to a measurer or an installer."),
    )  # fmt: skip
    capabilities = forms.MultipleChoiceField(
        label=_("May also"),
        required=False,
        choices=[(c, CAPABILITY_LABELS[c]) for c in CAPABILITIES],
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(level, LEVEL_LABELS[level]) for level in LEVELS]
        for kind in RECORD_TYPES:
            for action in ("read", "write"):
                self.fields[f"{kind}__{action}"] = forms.ChoiceField(
                    label=f"{RECORD_TYPE_LABELS[kind]} · {action}", choices=choices
                )

    def access(self) -> dict:
        data = self.cleaned_data
        return {
            kind: {action: data.get(f"{kind}__{action}") for action in ("read", "write")}
            for kind in RECORD_TYPES
        }

    def access_rows(self):
        """(label, read field, write field) per record type, for the table in the template."""
        return [
            (RECORD_TYPE_LABELS[kind], self[f"{kind}__read"], self[f"{kind}__write"])
            for kind in RECORD_TYPES
        ]

    @staticmethod
    def initial_for(role: Role) -> dict:
        initial = {
            "name": role.name,
            "description": role.description,
            "require_two_factor": role.require_two_factor,
            "takes_leads": role.takes_leads,
            "capabilities": [c for c in CAPABILITIES if role.has_capability(c)],
        }
        for kind in RECORD_TYPES:
            for action in ("read", "write"):
                initial[f"{kind}__{action}"] = role.level(kind, action)
        return initial


class SecurityForm(forms.Form):
    password_max_age_days = forms.IntegerField(
        label=_("Require a new password every (days)"),
        min_value=0,
        max_value=3650,
        help_text=_("0 turns forced password changes off."),
    )


def country_choices():
    names = sorted(country_names().items(), key=lambda pair: pair[1])
    return [("", _("Choose the country"))] + [(code, f"{name} (+{code_of(code)})")
                                              for code, name in names]  # fmt: skip


def currency_choices():
    try:
        names = babel.Locale.parse(to_locale(get_language() or "en")).currencies
    except (ValueError, babel.UnknownLocaleError):
        names = babel.Locale("en").currencies
    return [("", _("Choose the currency"))] + [
        (code, f"{code} — {names.get(code, code)}") for code in sorted(list_currencies())
    ]


def company_language_choices():
    return [("", _("The server's default")), *settings.LANGUAGES]


class CompanyStartForm(forms.Form):
    """The first administrator's first step: where the company works."""

    country = forms.ChoiceField(
        label=_("Country"),
        choices=country_choices,
        help_text=_("Phone numbers typed without a +code are read in this country."),
    )
    currency = forms.ChoiceField(
        label=_("Main currency"), choices=currency_choices,
        help_text=_("New deals and products start in it."),
    )  # fmt: skip
    time_zone = forms.ChoiceField(
        label=_("Time zone"), choices=time_zone_choices,
        help_text=_("For everyone who has not chosen their own."),
    )  # fmt: skip


class CompanyForm(CompanyStartForm):
    """Settings → Company: who the company is (documents print it) and where it works."""

    name = forms.CharField(label=_("Company name"), max_length=200, required=False)
    address = forms.CharField(
        label=_("Address"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    tax_id = forms.CharField(label=_("Tax id"), max_length=50, required=False)
    bank_details = forms.CharField(
        label=_("Bank details"), max_length=1000, required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Bank, account, routing or BIC: as invoices should print them."),
    )  # fmt: skip
    logo = forms.FileField(
        label=_("Logo"), required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
        help_text=_("PNG, JPEG or WebP, at most 2 MB; printed on documents."),
    )  # fmt: skip
    signature = forms.FileField(
        label=_("Signature"), required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
        help_text=_("PNG, JPEG or WebP, at most 2 MB: the signature on a transparent "
                    "background; printed on documents."),
    )  # fmt: skip
    stamp = forms.FileField(
        label=_("Stamp"), required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
        help_text=_("PNG, JPEG or WebP, at most 2 MB: the stamp, if documents carry one; "
                    "printed by the signature."),
    )  # fmt: skip
    language = forms.ChoiceField(
        label=_("Default language"), required=False, choices=company_language_choices,
        help_text=_("For people whose browser asks for a language Accord does not speak."),
    )  # fmt: skip
    week_start = forms.TypedChoiceField(
        label=_("First day of the week"), required=False, coerce=int, empty_value=None,
        choices=[("", _("As the language has it")), *CompanyProfile.WEEK_STARTS],
    )  # fmt: skip
    date_format = forms.ChoiceField(
        label=_("Date format"), required=False, choices=CompanyProfile.DATE_FORMATS
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    field_order = ["name", "address", "tax_id", "bank_details", "logo", "signature", "stamp",
                   "country", "currency",
                   "time_zone", "language", "week_start", "date_format"]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [
            ("", _("Choose the time zone")),
            *time_zone_choices()[1:],
        ]
