"""Forms of the import screens: they read the request; the services check."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accord.accounts.models import Team
from accord.core.phones import country_names, default_region
from accord.transfer import mapping
from accord.transfer.models import ImportJob
from accord.transfer.reading import DELIMITERS, ENCODINGS

ENCODING_CHOICES = [("", _("Find out")), *ENCODINGS.items()]
DELIMITER_NAMES = {",": _("Comma"), ";": _("Semicolon"), "\t": _("Tab"), "|": _("Vertical bar")}
DELIMITER_CHOICES = [("", _("Find out")), *((d, DELIMITER_NAMES[d]) for d in DELIMITERS)]


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (any delimiter; UTF-8, UTF-16 or Windows-1251) or Excel .xlsx."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )
    record_type = forms.ChoiceField(label=_("It holds"), choices=ImportJob.RECORD_TYPES)
    encoding = forms.ChoiceField(label=_("Encoding"), choices=ENCODING_CHOICES, required=False)
    delimiter = forms.ChoiceField(label=_("Delimiter"), choices=DELIMITER_CHOICES, required=False)


class ReadForm(forms.Form):
    encoding = forms.ChoiceField(label=_("Encoding"), choices=ENCODING_CHOICES[1:])
    delimiter = forms.ChoiceField(
        label=_("Delimiter"), choices=DELIMITER_CHOICES[1:], required=False
    )


class SetupForm(forms.Form):
    """A field choice per column, then what a duplicate is and what it gets."""

    # Duplicates are found by any of the keys (the contacts' batch service), so the choice
    # is whether to look for them at all; the value kept is a key's name, as the API and
    # the command line take it (where any of them means the same).
    match_by = forms.ChoiceField(
        label=_("Find duplicates"),
        choices=[("email", _("Yes: the same e-mail, phone or external id")),
                 ("", _("No: every row is a new client"))],
        required=False,
    )  # fmt: skip
    on_duplicate = forms.ChoiceField(label=_("With a duplicate"), choices=ImportJob.ON_DUPLICATE)
    team = forms.ModelChoiceField(
        label=_("Or let a team choose the owner"),
        queryset=Team.objects.exclude(lead_rule="").order_by("name"),
        required=False,
        empty_label=_("— the row's owner, or me —"),
        help_text=_("New people without an owner in the file go to the team's rule for new leads."),
    )
    no_automation = forms.BooleanField(
        label=_("Don't run automation for this import"),
        required=False,
        help_text=_("Rules on new or changed clients do not run for the imported ones."),
    )
    region = forms.ChoiceField(
        label=_("Phone numbers are from"),
        required=False,
        help_text=_(
            "Numbers without a +code are read in this country, unless a Country column "
            "names the row's. A number not valid there is kept as typed and marked."
        ),
    )

    def __init__(self, *args, job: ImportJob, custom_fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        if self.initial.get("match_by"):
            self.initial["match_by"] = "email"
        if job.record_type != "people":
            del self.fields["team"]
        names = sorted(country_names().items(), key=lambda pair: pair[1])
        company = default_region()
        # "" is the company's country; offered by name only when the company has none.
        none = [] if company else [("", _("— only numbers with a +code —"))]
        self.fields["region"].choices = [*none, *names]
        self.fields["region"].initial = job.region or company or ""
        choices = [("", _("— do not import —"))] + [
            (t.name, t.label) for t in mapping.targets_for(job.record_type, custom_fields)
        ]
        self.columns = []
        for number, title in enumerate(job.header):
            name = f"column_{number}"
            self.fields[name] = forms.ChoiceField(
                label=title or _("Column %(number)s") % {"number": number + 1},
                choices=choices,
                required=False,
                initial=job.mapping.get(str(number), ""),
            )
            self.columns.append((number, name))

    def mapping(self) -> dict[str, str]:
        return {
            str(number): self.cleaned_data[name]
            for number, name in self.columns
            if self.cleaned_data.get(name)
        }


class BackupScheduleForm(forms.Form):
    every_hours = forms.IntegerField(
        label=_("Back up every (hours)"),
        min_value=0,
        max_value=24 * 31,
        help_text=_("0 turns scheduled backups off."),
    )
    keep = forms.IntegerField(label=_("Keep the newest"), min_value=1, max_value=365)
