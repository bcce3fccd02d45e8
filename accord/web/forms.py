"""Shared form plumbing for the screens."""

from django import forms
from django.core.exceptions import ValidationError


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
