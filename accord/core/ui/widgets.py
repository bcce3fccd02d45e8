"""Form widgets of the shell."""

import json

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class RecordPicker(forms.Select):
    """A choice among many records (a million people): the select holds only the chosen
    record, and a search box beside it fills the select with matches as one types.

    Use with a ModelChoiceField; `pick_url` names the view that answers the options
    (`contacts.views.pick`). Without JavaScript the current choice still shows and stays.
    """

    template_name = "web/widgets/picker.html"

    def __init__(self, plural: str, *, url_name="client_pick", placeholder=None, attrs=None):
        super().__init__(attrs)
        self.plural, self.url_name = plural, url_name
        self.placeholder = placeholder or _("Type a name, phone or e-mail…")

    def optgroups(self, name, value, attrs=None):
        iterator = self.choices  # the field's ModelChoiceIterator: never iterated whole
        chosen = [v for v in value if v and str(v).isdecimal()]
        records = iterator.queryset.filter(pk__in=chosen) if chosen else []
        everything = self.choices
        self.choices = [("", iterator.field.empty_label or "—")] + [
            (record.pk, str(record)) for record in records
        ]
        try:
            return super().optgroups(name, value, attrs)
        finally:
            self.choices = everything

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        empty = self.choices.field.empty_label or "—"
        context["picker"] = {
            "url": reverse(self.url_name, args=[self.plural] if self.plural else []),
            "vals": json.dumps({"empty": str(empty)}),
            "placeholder": self.placeholder,
        }
        return context
