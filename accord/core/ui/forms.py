"""Shared form plumbing for the screens."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from accord.core.custom_fields import active_fields

# Django 6.1's empty choice of every select; its own catalogues do not translate it yet,
# so ours do (the project's catalogues come first).
BLANK_CHOICE = gettext_noop("- Select an option -")


def apply_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, by field where the form has it."""
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for field, messages in error.message_dict.items():
        if field.startswith("custom_fields."):  # custom fields are cf_<key> on forms
            field = "cf_" + field.split(".", 1)[1]
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


def custom_form_field(field) -> forms.Field:
    """A form field for a custom field definition (values are checked again by the service)."""
    common = {"label": field.label, "required": False, "help_text": field.help_text}
    kind = field.type
    if kind == "long_text":
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind in ("number", "money"):
        if kind == "money" and field.currency:
            common["label"] = f"{field.label} ({field.currency})"
        return forms.DecimalField(max_digits=17, decimal_places=4, **common)
    if kind == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == "choice":
        return forms.ChoiceField(choices=[("", "—"), *[(c, c) for c in field.choices]], **common)
    if kind == "multi_choice":
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in field.choices], widget=forms.CheckboxSelectMultiple, **common
        )
    if kind == "boolean":
        return forms.NullBooleanField(**common)
    if kind == "url":
        return forms.URLField(assume_scheme="https", **common)
    if kind == "record":
        common["help_text"] = common["help_text"] or _("person:12 or company:5")
    return forms.CharField(max_length=200, **common)


class CustomFieldsForm(forms.Form):
    """A form that adds the record type's active custom fields as `cf_<key>` fields (or
    only `custom_fields`: those a task asks for)."""

    record_type = ""

    def __init__(self, *args, custom_fields=None, **kwargs):
        super().__init__(*args, **kwargs)

        self.custom = active_fields(self.record_type) if custom_fields is None else custom_fields
        for field in self.custom:
            self.fields[f"cf_{field.key}"] = custom_form_field(field)

    def custom_bound_fields(self):
        return [self[f"cf_{field.key}"] for field in self.custom]

    def custom_data(self) -> dict:
        """The custom fields' values as the services take them ({key: value or None})."""
        values = {}
        for field in self.custom:
            name = f"cf_{field.key}"
            if name not in self.data and field.type not in ("multi_choice", "boolean"):
                continue
            value = self.cleaned_data.get(name)
            if field.type == "record" and value:
                kind, _sep, pk = str(value).partition(":")
                value = {"type": kind.strip(), "id": pk.strip()}
            elif field.type == "date" and value:
                value = value.isoformat()
            values[field.key] = None if value in ("", None, []) else value
        return values


def custom_initial(record) -> dict:
    """A record's custom values as the form's initial `cf_<key>` values."""
    initial = {}
    for key, value in record.custom_fields.items():
        if isinstance(value, dict):  # a link to a record
            value = f"{value.get('type')}:{value.get('id')}"
        initial[f"cf_{key}"] = value
    return initial


def tag_names(text: str) -> list[str]:
    """ "vip, wholesale ,," -> ["vip", "wholesale"]."""
    return [name.strip() for name in text.split(",") if name.strip()]
