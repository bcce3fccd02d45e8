"""E-mail templates: saved (checked: the merge fields' syntax, with the line at fault;
the text sanitised), removed, and rendered for a client in the reader's language."""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import translation
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.comms import bodies
from accord.comms.models import EmailTemplate, Mailing
from accord.comms.queries import manages_mailboxes
from accord.core.company import default_language
from accord.core.errors import StaleVersion
from accord.core.events import emit
from accord.core.texts import compile_text, problem, render_compiled

MAX_NAME = 100
MAX_SUBJECT = 300
MAX_HTML = 100_000


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str
    language: str


def may_manage_templates(user) -> bool:
    """Those who manage mail (administrators) write templates; everyone uses them."""
    return manages_mailboxes(user)


@transaction.atomic
def template_save(
    *,
    actor: User,
    name: str,
    subject: str,
    html: str,
    marketing: bool = False,
    tracked: bool = False,
    variants: dict | None = None,
    template: EmailTemplate | None = None,
    version: int | None = None,
) -> EmailTemplate:
    """Create or change a template; everything is checked before anything is written;
    `version` guards against overwriting a newer edit. `tracked`: the messages sent from
    it track opens and clicks (accord/comms/tracking.py); off unless asked."""
    if not may_manage_templates(actor):
        raise PermissionDenied(_("Only those who manage e-mail change templates."))
    if template is not None and version is not None:
        current = EmailTemplate.objects.select_for_update().get(pk=template.pk).version
        if current != version:
            raise StaleVersion(current)
    errors: dict[str, list[str]] = {}
    name = str(name or "").strip()
    if not name:
        errors["name"] = [_("Give the template a name.")]
    elif len(name) > MAX_NAME:
        errors["name"] = [_("At most %(limit)s characters.") % {"limit": MAX_NAME}]
    else:
        taken = EmailTemplate.objects.annotate(low=Lower("name")).filter(low=name.lower())
        if template is not None:
            taken = taken.exclude(pk=template.pk)
        if taken.exists():
            errors["name"] = [_("Another template has this name.")]
    subject, clean_html, text = _texts(subject, html, "", errors, required=True)
    kept_variants = _variants(variants, errors)
    if errors:
        raise ValidationError(errors)
    template = template or EmailTemplate(created_by=actor)
    template.name, template.subject, template.html, template.text = name, subject, clean_html, text
    template.marketing, template.variants = bool(marketing), kept_variants
    template.tracked = bool(tracked)
    if template.pk:
        template.version += 1
    template.save()
    emit("email_template.saved", template_id=template.pk, actor_id=actor.pk)
    return template


@transaction.atomic
def template_delete(*, actor: User, template: EmailTemplate) -> None:
    if not may_manage_templates(actor):
        raise PermissionDenied(_("Only those who manage e-mail change templates."))
    if Mailing.objects.filter(template=template).exists():
        raise ValidationError(
            {"template": [_("Mailings use this template: it stays while they are kept.")]}
        )
    template_id = template.pk
    template.delete()
    emit("email_template.deleted", template_id=template_id, actor_id=actor.pk)


def _texts(subject, html, where: str, errors: dict, *, required: bool) -> tuple[str, str, str]:
    """A subject and a body, checked: no line break in the subject, the merge fields'
    syntax (with the line), lengths; the body sanitised and its plain-text part made."""
    subject = str(subject or "")
    html = str(html or "")
    subject_key, html_key = f"{where}subject", f"{where}html"
    if "\r" in subject or "\n" in subject:
        errors[subject_key] = [_("The subject cannot hold a line break.")]
    subject = subject.strip()
    if required and not subject:
        errors[subject_key] = [_("Write the subject.")]
    elif found := problem(subject, limit=MAX_SUBJECT):
        errors[subject_key] = [found]
    if required and not bodies.to_text(html).strip():
        errors[html_key] = [_("Write the text.")]
    elif found := problem(html, limit=MAX_HTML):
        errors[html_key] = [found]
    clean_html = bodies.clean(html) if html.strip() else ""
    return subject, clean_html, bodies.to_text(clean_html) if clean_html else ""


def _variants(variants, errors: dict) -> dict:
    """The variants per language: each with its subject and text (both may be left empty
    to use the main ones)."""
    kept = {}
    languages = dict(settings.LANGUAGES)
    for code, texts in (variants or {}).items():
        if code not in languages:
            errors["variants"] = [_("Accord speaks no language “%(code)s”.") % {"code": code}]
            continue
        if not isinstance(texts, dict):
            errors["variants"] = [_("Each language holds a subject and a text.")]
            continue
        subject, html, text = _texts(
            texts.get("subject"), texts.get("html"), f"variants.{code}.", errors, required=False
        )
        if subject or html:
            kept[code] = {"subject": subject, "html": html, "text": text}
    return kept


def language_for(person) -> str:
    """The language a person reads e-mail in: theirs, else the company's."""
    code = getattr(person, "language", "") or default_language()
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return settings.LANGUAGE_CODE


class Compiled:
    """A template compiled once per language, for rendering it for many people."""

    def __init__(self, template: EmailTemplate):
        self.template = template
        self._cache: dict[str, tuple] = {}

    def _parts(self, language: str) -> tuple:
        if language not in self._cache:
            variant = (self.template.variants or {}).get(language) or {}
            subject = variant.get("subject") or self.template.subject
            html = variant.get("html") or self.template.html
            self._cache[language] = (compile_text(subject), compile_text(html))
        return self._cache[language]

    def render(self, values: dict, language: str) -> Rendered:
        subject_template, html_template = self._parts(language)
        with translation.override(language):
            subject = render_compiled(subject_template, values)
            # The client's own values are escaped in the HTML: a name is text, not markup.
            html = bodies.clean(render_compiled(html_template, values, autoescape=True))
        subject = " ".join(subject.split())[:MAX_SUBJECT]
        return Rendered(subject=subject, html=html, text=bodies.to_text(html), language=language)


def template_render(*, template: EmailTemplate, values: dict, language: str) -> Rendered:
    """The template filled in for one client (the compose drawer, a rule, a preview)."""
    return Compiled(template).render(values, language)


def template_draft(*, subject: str, html: str, variants: dict | None = None) -> EmailTemplate:
    """The texts being edited, checked as a save checks them, as an unsaved template (a
    preview renders it); ValidationError says what is wrong."""
    errors: dict[str, list[str]] = {}
    subject, clean_html, text = _texts(subject, html, "", errors, required=True)
    kept = _variants(variants, errors)
    if errors:
        raise ValidationError(errors)
    return EmailTemplate(subject=subject, html=clean_html, text=text, variants=kept)
