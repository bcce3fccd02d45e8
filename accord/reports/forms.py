"""The dashboard's and the widget's forms, and the filter bar of a dashboard or a report:
each offers only the reports, pipelines, teams and colleagues the user may read."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accord.accounts.models import Role, User
from accord.accounts.queries import people_in_reach
from accord.reports.catalog import allowed_reports
from accord.reports.models import CHARTS, Schedule
from accord.reports.periods import MAX_DAYS, PRESETS, Period
from accord.reports.queries import teams_in_reach
from accord.sales.queries import pipelines_for

DATE = {"type": "date"}
ISO = "%Y-%m-%d"


class DashboardForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    shared = forms.BooleanField(
        label=_("Everyone may open it"),
        required=False,
        help_text=_("Each reader sees the figures their own access allows."),
    )


class WidgetForm(forms.Form):
    report = forms.ChoiceField(label=_("Report"))
    chart = forms.ChoiceField(
        label=_("Shown as"),
        choices=CHARTS,
        help_text=_("A report offers the ways that suit it; the first is the usual one."),
    )
    title = forms.CharField(
        label=_("Title"), max_length=100, required=False, help_text=_("Empty: the report's name.")
    )
    period = forms.ChoiceField(label=_("Period"), choices=PRESETS, initial="last_90")
    pipeline = forms.ModelChoiceField(label=_("Pipeline"), queryset=None, required=False)
    team = forms.ModelChoiceField(label=_("Team"), queryset=None, required=False)
    member = forms.ModelChoiceField(label=_("Colleague"), queryset=None, required=False)
    wide = forms.BooleanField(label=_("Full width"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["report"].choices = [(r.key, r.title) for r in allowed_reports(user)]
        self.fields["pipeline"].queryset = pipelines_for(user)
        self.fields["team"].queryset = teams_in_reach(user)
        self.fields["member"].queryset = people_in_reach(user)
        self.fields["pipeline"].empty_label = _("Every pipeline")
        self.fields["team"].empty_label = _("Everyone")
        self.fields["member"].empty_label = _("Everyone")


class FilterForm(forms.Form):
    """The page's filters: a named period or dates of one's own, a pipeline, a team, a
    colleague. Empty fields leave each widget's own."""

    period = forms.ChoiceField(label=_("Period"), required=False)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(DATE, format=ISO)
    )
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(DATE, format=ISO))
    pipeline = forms.ModelChoiceField(label=_("Pipeline"), queryset=None, required=False)
    team = forms.ModelChoiceField(label=_("Team"), queryset=None, required=False)
    member = forms.ModelChoiceField(label=_("Colleague"), queryset=None, required=False)

    def __init__(self, *args, user, own_period: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        first = [("", own_period or _("As each widget says"))]
        self.fields["period"].choices = [*first, *PRESETS, ("custom", _("Dates of my own"))]
        self.fields["pipeline"].queryset = pipelines_for(user)
        self.fields["team"].queryset = teams_in_reach(user)
        self.fields["member"].queryset = people_in_reach(user)
        self.fields["pipeline"].empty_label = _("Every pipeline")
        self.fields["team"].empty_label = _("Everyone")
        self.fields["member"].empty_label = _("Everyone")

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if not data.get("period") and (since or until):
            data["period"] = "custom"  # dates typed in: they are the period
        if data.get("period") == "custom":
            if not since or not until:
                self.add_error("since", _("Give both dates."))
            elif since > until:
                self.add_error("until", _("The end comes on or after the start."))
            elif (until - since).days > MAX_DAYS:
                self.add_error("until", _("At most three years at a time."))
        return data

    def overrides(self) -> dict:
        """The filters chosen, for queries.shown(); nothing when the form is not valid."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        found = {key: data.get(key) for key in ("pipeline", "team", "member")}
        if data.get("period") == "custom":
            found["period"] = Period(data["since"], data["until"])
        elif data.get("period"):
            found["period"] = Period.named(data["period"])
        return found

    def period_or(self, default: str) -> Period:
        return self.overrides().get("period") or Period.named(default)


WEEKDAYS = [(0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")),
            (4, _("Friday")), (5, _("Saturday")), (6, _("Sunday"))]  # fmt: skip


class ScheduleForm(forms.Form):
    user = forms.ModelChoiceField(label=_("To a colleague"), queryset=None, required=False)
    role = forms.ModelChoiceField(
        label=_("Or to everyone in a role"), queryset=None, required=False
    )
    frequency = forms.ChoiceField(label=_("How often"), choices=Schedule.FREQUENCIES)
    weekday = forms.TypedChoiceField(
        label=_("On"), choices=WEEKDAYS, coerce=int, initial=0, required=False
    )
    day = forms.TypedChoiceField(
        label=_("On day"), choices=[(d, d) for d in range(1, 29)], coerce=int, initial=1,
        required=False,
    )  # fmt: skip
    hour = forms.TypedChoiceField(
        label=_("At"), choices=[(h, f"{h:02d}:00") for h in range(24)], coerce=int, initial=8
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(is_active=True).order_by("full_name")
        self.fields["role"].queryset = Role.objects.all()
        self.fields["user"].empty_label = "—"
        self.fields["role"].empty_label = "—"
        self.initial.setdefault("user", user.pk)
