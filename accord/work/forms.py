"""Forms of the task and activity screens: they read the request; the services validate."""

from datetime import datetime, time

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accord.accounts.models import Absence, User
from accord.contacts.forms import company_picker, person_picker
from accord.contacts.queries import companies_visible_to, people_visible_to
from accord.core.ui.forms import CustomFieldsForm, custom_initial
from accord.core.ui.widgets import RecordPicker
from accord.sales.models import Deal
from accord.sales.queries import deals_visible_to
from accord.work.asks import asked, choices
from accord.work.models import Activity, Task

REMINDERS = [
    ("", _("No reminder")),
    ("0", _("At the due time")),
    ("5", _("5 minutes before")),
    ("15", _("15 minutes before")),
    ("30", _("30 minutes before")),
    ("60", _("1 hour before")),
    ("1440", _("1 day before")),
]


class LinksMixin(forms.Form):
    """The client and deal a task or an activity is about (pickers: there may be a million)."""

    person = person_picker()
    company = company_picker()
    deal = forms.ModelChoiceField(
        label=_("Deal"),
        queryset=Deal.objects.none(),
        required=False,
        empty_label=_("No deal"),
        widget=RecordPicker("", url_name="deal_pick", placeholder=_("Type a deal's title…")),
    )

    def limit_links(self, user) -> None:
        self.fields["person"].queryset = people_visible_to(user)
        self.fields["company"].queryset = companies_visible_to(user)
        self.fields["deal"].queryset = deals_visible_to(user)


class TaskForm(LinksMixin):
    title = forms.CharField(label=_("What is to be done"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Task.KINDS)
    due_date = forms.DateField(label=_("Due"), widget=forms.DateInput(attrs={"type": "date"}))
    due_time = forms.TimeField(
        label=_("Time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_("Empty: any time that day."),
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration, min"), required=False, min_value=0, max_value=24 * 60
    )
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=User.objects.filter(is_active=True), empty_label=None
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Task.PRIORITIES, coerce=int, initial=Task.NORMAL
    )
    remind_minutes = forms.TypedChoiceField(
        label=_("Remind me"), choices=REMINDERS, coerce=int, empty_value=None, required=False
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    asks = forms.MultipleChoiceField(
        label=_("When it is completed, ask for the deal's"),
        choices=[],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Whoever completes the task fills these in on the deal, even when their "
                    "role may not change deals."),
    )  # fmt: skip
    confirm_past = forms.BooleanField(required=False, widget=forms.HiddenInput)
    confirm_absent = forms.BooleanField(required=False, widget=forms.HiddenInput)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["asks"].choices = choices()

    def service_data(self) -> dict:
        data = {
            name: self.cleaned_data[name]
            for name in ("title", "kind", "assignee", "priority", "description", "person",
                         "company", "deal", "remind_minutes", "asks")
        }  # fmt: skip
        data["duration_minutes"] = self.cleaned_data["duration_minutes"] or 0
        moment = self.cleaned_data["due_time"]
        data["all_day"] = moment is None
        data["due_at"] = timezone.make_aware(
            datetime.combine(self.cleaned_data["due_date"], moment or time(0, 0))
        )
        return data


def task_initial(task: Task) -> dict:
    local = timezone.localtime(task.due_at)
    initial = {
        name: getattr(task, name)
        for name in ("title", "kind", "assignee", "priority", "description", "person",
                     "company", "deal", "remind_minutes", "duration_minutes", "version", "asks")
    }  # fmt: skip
    initial["due_date"] = local.date()
    initial["due_time"] = None if task.all_day else local.time().replace(second=0)
    return initial


class QuickTaskForm(forms.Form):
    line = forms.CharField(
        label=_("New task"),
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": _("Call back Monday 10:00")}),
    )
    person = forms.IntegerField(required=False, widget=forms.HiddenInput)
    company = forms.IntegerField(required=False, widget=forms.HiddenInput)
    deal = forms.IntegerField(required=False, widget=forms.HiddenInput)
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class CompleteForm(CustomFieldsForm):
    """Mark a task done: what came of it, the call to log, and the deal's fields the task
    asks for (each required, with the deal's value now; a custom field as `cf_<key>`)."""

    record_type = "deal"
    result = forms.CharField(
        label=_("What came of it"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    log_call = forms.BooleanField(label=_("Log it as a call"), required=False)
    direction = forms.ChoiceField(label=_("Direction"), choices=Activity.DIRECTIONS, required=False)
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", "—"), *Activity.OUTCOMES], required=False
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration, min"), required=False, min_value=0, max_value=24 * 60
    )

    def __init__(self, *args, task: Task | None = None, **kwargs):
        self.asked = asked(task) if task is not None else []
        custom = [item.field for item in self.asked if item.field is not None]
        super().__init__(*args, custom_fields=custom, **kwargs)
        deal = task.deal if self.asked else None
        for item in self.asked:
            if item.field is None:
                self.fields[item.name] = OWN_FIELDS[item.name]()
            self.fields[form_name(item)].required = True
        if deal is not None and not self.is_bound:
            self.initial.update(custom_initial(deal))
            if deal.amount:  # no amount yet reads as none, not as 0
                self.initial["amount"] = deal.amount
            self.initial["expected_close_date"] = deal.expected_close_date

    def asked_fields(self) -> list:
        """The bound fields of what the task asks for, in its order."""
        return [self[form_name(item)] for item in self.asked]

    def deal_fields(self) -> dict:
        """The answers as task_complete takes them ({"custom_fields.<key>": value})."""
        custom = self.custom_data()
        return {
            item.name: custom.get(item.field.key)
            if item.field is not None
            else self.cleaned_data.get(item.name)
            for item in self.asked
        }

    def call(self) -> dict | None:
        if not self.cleaned_data.get("log_call"):
            return None
        return {
            "direction": self.cleaned_data["direction"] or Activity.OUTBOUND,
            "outcome": self.cleaned_data["outcome"],
            "duration_minutes": self.cleaned_data["duration_minutes"] or 0,
        }


OWN_FIELDS = {  # the deal's own fields a task can ask for, as the deal's form has them
    "amount": lambda: forms.DecimalField(
        label=_("Amount"), min_value=0, max_digits=14, decimal_places=2
    ),
    "expected_close_date": lambda: forms.DateField(
        label=_("Expected close"), widget=forms.DateInput(attrs={"type": "date"})
    ),
}


def form_name(item) -> str:
    """The completion form's field for an asked one: a custom field is `cf_<key>`."""
    return f"cf_{item.field.key}" if item.field is not None else item.name


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(label=_("What happened"), choices=Activity.KINDS)
    direction = forms.ChoiceField(
        label=_("Direction"), choices=[("", "—"), *Activity.DIRECTIONS], required=False
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", "—"), *Activity.OUTCOMES], required=False
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration, min"), required=False, min_value=0, max_value=24 * 60
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Empty: now."),
    )
    text = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    person = forms.IntegerField(required=False, widget=forms.HiddenInput)
    company = forms.IntegerField(required=False, widget=forms.HiddenInput)
    deal = forms.IntegerField(required=False, widget=forms.HiddenInput)
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class AbsenceForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Who"), queryset=User.objects.none(), empty_label=None)
    kind = forms.ChoiceField(label=_("Kind"), choices=Absence.KINDS)
    starts = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = people if people is not None else User.objects.none()


WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class ScheduleForm(forms.Form):
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Working days"),
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    starts = forms.TimeField(
        label=_("Work starts at"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    ends = forms.TimeField(label=_("Work ends at"), widget=forms.TimeInput(attrs={"type": "time"}))
