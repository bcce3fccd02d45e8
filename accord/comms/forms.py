"""Forms of the e-mail and telephony screens: they parse and render; the services validate
and write."""

import re
import uuid

from django import forms
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accord.accounts.models import Team, User
from accord.comms.bodies import from_text
from accord.comms.models import SECURITY, EmailTemplate, Mailbox, Messenger, Telephony
from accord.contacts.models import Person, Segment
from accord.core.ui.widgets import RecordPicker

KEEP = _("Leave blank to keep the stored password; it is never shown again.")


def with_example(sentence: str, example: str) -> SafeString:
    """A help text and its example, the example as code read left to right (an address
    or JSON stays whole inside Hebrew)."""
    return format_html('{} <code dir="ltr">{}</code>', sentence, example)


example_help = lazy(with_example, SafeString)  # translated when the form is shown


class MailboxForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("How people choose it: “Sales”, “Anna's mailbox”."),
    )
    owner = forms.ModelChoiceField(
        label=_("Belongs to"),
        required=False,
        queryset=User.objects.none(),
        empty_label=_("Nobody: shared, everyone may send from it"),
    )
    from_name = forms.CharField(
        label=_("Sender name"),
        max_length=100,
        required=False,
        help_text=_("What clients see beside the address."),
    )
    address = forms.EmailField(label=_("Address"), max_length=254)
    is_default = forms.BooleanField(
        label=_("The company's default: automation rules send from it"), required=False
    )
    active = forms.BooleanField(label=_("In use"), required=False, initial=True)
    smtp_host = forms.CharField(label=_("Server"), max_length=255)
    smtp_port = forms.IntegerField(label=_("Port"), min_value=1, max_value=65535, initial=587)
    smtp_security = forms.ChoiceField(
        label=_("Security"),
        choices=SECURITY,
        initial="starttls",
        help_text=_("STARTTLS: usually port 587; TLS: 465; none only inside a trusted network."),
    )
    smtp_username = forms.CharField(label=_("User name"), max_length=255, required=False)
    per_minute = forms.IntegerField(
        label=_("Mailing messages per minute"),
        min_value=0,
        max_value=100_000,
        initial=120,
        required=False,
        help_text=_("Mailings send at most this many a minute from this mailbox; 0: no limit. "
                    "Shared mail providers often allow a few hundred a day."),
    )  # fmt: skip
    smtp_password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        help_text=KEEP,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    imap_host = forms.CharField(label=_("Server"), max_length=255, required=False)
    imap_port = forms.IntegerField(label=_("Port"), min_value=1, max_value=65535, initial=993)
    imap_security = forms.ChoiceField(
        label=_("Security"),
        choices=SECURITY,
        initial="tls",
        help_text=_("TLS: usually port 993; STARTTLS: 143."),
    )
    imap_username = forms.CharField(label=_("User name"), max_length=255, required=False)
    imap_password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        help_text=KEEP,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    imap_folder = forms.CharField(label=_("Folder"), max_length=255, initial="INBOX")
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    SENDING = ("smtp_host", "smtp_port", "smtp_security", "smtp_username", "smtp_password",
               "per_minute")  # fmt: skip
    RECEIVING = ("imap_host", "imap_port", "imap_security", "imap_username", "imap_password",
                 "imap_folder")  # fmt: skip

    def __init__(self, *args, admin: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if admin:
            self.fields["owner"].queryset = User.objects.filter(is_active=True).order_by("email")
        else:  # a user's own mailbox: theirs, never the default
            del self.fields["owner"], self.fields["is_default"]

    def section(self, names) -> list:
        return [self[name] for name in names]

    def data_for_service(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        if data.get("per_minute") is None:
            data.pop("per_minute", None)  # blank keeps the pace it has
        for secret in ("smtp_password", "imap_password"):
            data[secret] = data.get(secret) or None  # blank keeps the stored one
        return data


def mailbox_initial(mailbox: Mailbox) -> dict:
    return {name: getattr(mailbox, name) for name in MailboxForm.base_fields
            if name not in ("smtp_password", "imap_password")}  # fmt: skip


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name (the compose form's attachments)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)] if data else []


class TemplateChoiceField(forms.ModelChoiceField):
    """A choice of e-mail template that says which ones track opens and clicks."""

    def label_from_instance(self, obj) -> str:
        if obj.tracked:
            return _("%(name)s (opens and clicks tracked)") % {"name": obj.name}
        return str(obj)


class ComposeForm(forms.Form):
    mailbox = forms.ModelChoiceField(
        label=pgettext_lazy("e-mail header", "From"),
        queryset=Mailbox.objects.none(),
        empty_label=None,
        widget=forms.Select(attrs={"dir": "auto"}),
    )
    to = forms.CharField(
        label=pgettext_lazy("e-mail header", "To"),
        max_length=5000,
        widget=forms.TextInput(attrs={"dir": "ltr", "autocomplete": "off"}),
        help_text=_("Several addresses: separate them with commas."),
    )
    cc = forms.CharField(
        label=pgettext_lazy("e-mail header", "Cc"),
        max_length=5000,
        required=False,
        widget=forms.TextInput(attrs={"dir": "ltr", "autocomplete": "off"}),
    )
    bcc = forms.CharField(
        label=pgettext_lazy("e-mail header", "Bcc"),
        max_length=5000,
        required=False,
        widget=forms.TextInput(attrs={"dir": "ltr", "autocomplete": "off"}),
    )
    subject = forms.CharField(
        label=_("Subject"), max_length=1000, widget=forms.TextInput(attrs={"dir": "auto"})
    )
    text = forms.CharField(
        label=_("Message"),
        max_length=100_000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10, "dir": "auto"}),
        help_text=_("A blank line starts a new paragraph; web and e-mail addresses become links."),
    )
    attachments = MultipleFileField(label=_("Attachments"), required=False)
    template = TemplateChoiceField(
        label=_("Start from a template"),
        queryset=EmailTemplate.objects.none(),
        required=False,
        empty_label=_("No template"),
        widget=forms.Select(attrs={"dir": "auto"}),
    )
    keep_attachments = forms.BooleanField(
        label=_("Send the original's files too"), required=False, initial=True
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, mailboxes, carried=(), **kwargs):
        kwargs.setdefault("initial", {}).setdefault("key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.fields["mailbox"].queryset = mailboxes
        self.fields["template"].queryset = EmailTemplate.objects.order_by("name", "id")
        # A forward's files, kept unless unticked (the box is only on a forward's form).
        self.carried = list(carried)
        if not self.carried:
            self.fields["keep_attachments"].initial = False


class TemplateForm(forms.Form):
    """An e-mail template: its texts, and a variant per language (`subject_ru`, `html_ru`)."""

    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("How people choose it: “Spring offer”.")
    )
    subject = forms.CharField(
        label=_("Subject"), max_length=1000, widget=forms.TextInput(attrs={"dir": "auto"})
    )
    html = forms.CharField(
        label=_("Text"),
        max_length=100_000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 12, "dir": "auto"}),
        help_text=_(
            "A blank line starts a new paragraph. Simple HTML (bold, links, lists) is kept; "
            "scripts, styles and images are removed."
        ),
    )
    marketing = forms.BooleanField(
        label=_("Offers and news (marketing): only to clients who agreed, with an unsubscribe "
                "link"),
        required=False,
    )  # fmt: skip
    tracked = forms.BooleanField(
        label=_("Track opens and clicks"),
        required=False,
        help_text=_(
            "Adds an invisible image and passes the links through Accord, to show who opened "
            "the e-mail and clicked a link. Off: nothing is tracked."
        ),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, languages, **kwargs):
        super().__init__(*args, **kwargs)
        self.languages = languages
        for code, _name in languages:
            self.fields[f"subject_{code}"] = forms.CharField(
                label=_("Subject"), max_length=1000, required=False,
                widget=forms.TextInput(attrs={"dir": "auto"}),
            )  # fmt: skip
            self.fields[f"html_{code}"] = forms.CharField(
                label=_("Text"), max_length=100_000, required=False, strip=False,
                widget=forms.Textarea(attrs={"rows": 8, "dir": "auto"}),
            )  # fmt: skip

    def variants(self) -> list[dict]:
        """What the screen shows per language: its code, name and two fields."""
        return [
            {"code": code, "name": name, "subject": self[f"subject_{code}"],
             "html": self[f"html_{code}"],
             "filled": bool(self[f"subject_{code}"].value() or self[f"html_{code}"].value())}
            for code, name in self.languages
        ]  # fmt: skip

    def data_for_service(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "subject": data["subject"],
            "html": as_html(data["html"]),
            "marketing": data["marketing"],
            "tracked": data["tracked"],
            "variants": {
                code: {"subject": data.get(f"subject_{code}", ""),
                       "html": as_html(data.get(f"html_{code}", ""))}
                for code, _name in self.languages
                if data.get(f"subject_{code}") or data.get(f"html_{code}")
            },
        }  # fmt: skip


def template_initial(template) -> dict:
    initial = {"name": template.name, "subject": template.subject, "html": template.html,
               "marketing": template.marketing, "tracked": template.tracked,
               "version": template.version}  # fmt: skip
    for code, texts in (template.variants or {}).items():
        initial[f"subject_{code}"] = texts.get("subject", "")
        initial[f"html_{code}"] = texts.get("html", "")
    return initial


def as_html(typed: str) -> str:
    """What was typed in a template's text: HTML as it is (cleaned by the service), plain
    paragraphs made HTML."""
    typed = (typed or "").replace("\r\n", "\n").strip("\n")
    if not typed.strip():
        return ""
    if re.search(r"(?i)</?(p|div|br|a|b|strong|em|i|ul|ol|li|h[1-4]|table)\b", typed):
        return typed
    return from_text(typed)


class MailingForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200,
                           help_text=_("For you: “Spring offer, March”."))  # fmt: skip
    template = TemplateChoiceField(
        label=_("Template"), queryset=EmailTemplate.objects.none(), empty_label="—"
    )
    segment = forms.ModelChoiceField(
        label=_("Segment"),
        queryset=Segment.objects.none(),
        empty_label="—",
        help_text=_("A saved filter of people (Clients → save the filter as a segment)."),
    )
    mailbox = forms.ModelChoiceField(
        label=pgettext_lazy("e-mail header", "From"),
        queryset=Mailbox.objects.none(),
        empty_label=None,
    )
    messenger = forms.ModelChoiceField(
        label=_("Send by"), queryset=Messenger.objects.none(), empty_label=None, required=False
    )
    text = forms.CharField(
        label=_("SMS text"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4, "dir": "auto", "data-sms-count": ""}),
        help_text=_("Merge fields work as in e-mail: {{ client.first_name }}. “Reply STOP to "
                    "unsubscribe.” is added in each client's language."),
    )  # fmt: skip

    campaign = forms.ModelChoiceField(
        label=_("Campaign"), queryset=None, required=False, empty_label="—",
        help_text=_("Its results (sent, opened, replied) show on the campaign's page."),
    )  # fmt: skip

    def __init__(self, *args, templates, segments, mailboxes, messengers=None, sms=False,
                 campaigns=None, **kwargs):  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns
        if not campaigns.exists():
            del self.fields["campaign"]
        self.fields["template"].queryset = templates
        self.fields["segment"].queryset = segments
        self.fields["mailbox"].queryset = mailboxes
        if sms:  # an SMS mailing: a connection and a text instead of a template and mailbox
            self.fields["messenger"].queryset = messengers
            self.fields["messenger"].required = self.fields["text"].required = True
            self.fields["template"].required = self.fields["mailbox"].required = False
        else:
            del self.fields["messenger"], self.fields["text"]


class PreviewForm(forms.Form):
    """The client a template's preview is filled in for."""

    preview_person = forms.ModelChoiceField(
        label=_("Preview with a client"),
        queryset=Person.objects.all(),
        required=False,
        empty_label="—",
        widget=RecordPicker("people"),
    )


class TelephonyForm(forms.Form):
    """Settings → Telephony: a connection to the company's PBX."""

    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("“Office PBX”, “Zadarma”."))
    provider = forms.ChoiceField(label=_("Provider"), choices=Telephony.PROVIDERS)
    api_key = forms.CharField(
        label=_("API key"),
        max_length=200,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "Zadarma: the key from Settings → API in your Zadarma account; Twilio: the Account SID."
        ),
    )
    secret = forms.CharField(
        label=_("Secret"),
        max_length=500,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("What the PBX signs its events with (Zadarma: the API secret; Twilio: "
                    "the auth token). Leave blank to keep the stored one; it is never "
                    "shown again."),
    )  # fmt: skip
    lead_team = forms.ModelChoiceField(
        label=_("New callers go to"),
        required=False,
        queryset=Team.objects.order_by("name"),
        empty_label=_("Whoever takes the call"),
        help_text=_("A caller Accord does not know becomes a new client, handed out by this "
                    "team's lead rule."),
    )  # fmt: skip
    callback_minutes = forms.IntegerField(
        label=_("Call back within, minutes"),
        min_value=1,
        max_value=7 * 24 * 60,
        initial=15,
        help_text=_("A missed call becomes a “call back” task due this long after it."),
    )
    active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    def __init__(self, *args, secret_stored: bool = False, key_stored: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if key_stored:
            self.fields["api_key"].help_text = _(
                "A key is stored. Leave blank to keep it; it is never shown again."
            )
        if secret_stored:
            self.fields["secret"].help_text = _(
                "A secret is stored. Leave blank to keep it; it is never shown again."
            )

    def data_for_service(self) -> dict:
        return dict(self.cleaned_data)


def telephony_initial(telephony: Telephony) -> dict:
    return {name: getattr(telephony, name) for name in TelephonyForm.base_fields
            if name not in ("secret", "api_key")}  # fmt: skip


class MessengerForm(forms.Form):
    """Settings → Messengers and SMS: a connection to Telegram, WhatsApp or an SMS gateway."""

    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("“Shop's Telegram bot”, “SMS”."))  # fmt: skip
    provider = forms.ChoiceField(label=_("Provider"), choices=Messenger.PROVIDERS)
    token = forms.CharField(
        label=_("Token"),
        max_length=500,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Telegram: the bot's token from BotFather; WhatsApp: the access token; "
                    "Twilio: the auth token; a gateway: its key, put where {key} stands. "
                    "Never shown again."),
    )  # fmt: skip
    secret = forms.CharField(
        label=_("Signing secret"),
        max_length=500,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("WhatsApp: the app secret; a gateway: the secret it signs incoming "
                    "messages with. Telegram and Twilio need none here."),
    )  # fmt: skip
    account = forms.CharField(
        label=_("Account"),
        max_length=100,
        required=False,
        help_text=_("WhatsApp: the phone number ID; Twilio: the account SID."),
    )
    sender = forms.CharField(
        label=_("Sender"),
        max_length=40,
        required=False,
        help_text=_("The number or name SMS go out from."),
    )
    gateway_url = forms.CharField(
        label=_("Gateway address"),
        max_length=2000,
        required=False,
        help_text=example_help(
            _("Where Accord sends an SMS, e.g."), "https://sms.example.com/send?to={to}&text={text}"
        ),
    )
    gateway_method = forms.ChoiceField(
        label=_("How to call it"), choices=Messenger.GATEWAY_METHODS, required=False
    )
    gateway_body = forms.CharField(
        label=_("What to send"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "ltr"}),
        help_text=example_help(
            _("The body, with {to}, {text}, {from} and {key} where they go, e.g."),
            '{"phone": "{to}", "message": "{text}"}',
        ),
    )
    templates = forms.CharField(
        label=_("WhatsApp templates"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "ltr"}),
        help_text=_("The approved templates offered when the 24-hour window is closed, a "
                    "line each: name:language (order_ready:en_US)."),
    )  # fmt: skip
    lead_team = forms.ModelChoiceField(
        label=_("New clients go to"),
        required=False,
        queryset=Team.objects.order_by("name"),
        empty_label=_("The administrator who connected it"),
        help_text=_("Someone Accord does not know who writes becomes a new client, handed "
                    "out by this team's lead rule."),
    )  # fmt: skip
    active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    def __init__(self, *args, messenger=None, **kwargs):
        super().__init__(*args, **kwargs)
        if messenger is not None:
            self.fields["provider"].disabled = True
            stored = _("Stored. Leave blank to keep it; it is never shown again.")
            if messenger.token_sealed:
                self.fields["token"].help_text = stored
            if messenger.secret_sealed:
                self.fields["secret"].help_text = stored

    def data_for_service(self) -> dict:
        return dict(self.cleaned_data)


def messenger_initial(messenger: Messenger) -> dict:
    initial = {name: getattr(messenger, name) for name in MessengerForm.base_fields
               if name not in ("token", "secret", "templates")}  # fmt: skip
    initial["templates"] = "\n".join(f"{t['name']}:{t['language']}" for t in messenger.templates)
    return initial


class ChatReplyForm(forms.Form):
    """A message in a messenger's or an SMS conversation, from the Inbox."""

    text = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=4096,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
    )
    template = forms.CharField(required=False, max_length=512)
