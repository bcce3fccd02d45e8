"""Settings → E-mail → Templates (for those who manage mail): the list, the editor with a
variant per language and the "Insert a field" menu, a preview with a real client, removal."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accord.comms import forms, merge
from accord.comms.models import EmailTemplate
from accord.comms.services import template_delete, template_save
from accord.comms.services.templates import (
    Compiled,
    language_for,
    may_manage_templates,
    template_draft,
)
from accord.contacts.queries import people_visible_to
from accord.core.errors import StaleVersion, message_of
from accord.core.ui.forms import apply_errors


def _require(request) -> None:
    if not may_manage_templates(request.user):
        raise Http404


def _frame(**more) -> dict:
    return {"base_template": "accounts/settings_base.html", "section": "email",
            "email_tab": "templates", **more}  # fmt: skip


@login_required
def templates_list(request):
    _require(request)
    found = EmailTemplate.objects.order_by("name", "id")
    return render(
        request,
        "comms/templates.html",
        _frame(
            page_title=_("E-mail templates"), templates=found, languages=dict(settings.LANGUAGES)
        ),
    )


@login_required
def template_edit(request, pk: int | None = None):
    _require(request)
    template = get_object_or_404(EmailTemplate, pk=pk) if pk else None
    initial = forms.template_initial(template) if template else {}
    form = forms.TemplateForm(request.POST or None, initial=initial, languages=_languages())
    status = 200
    if request.method == "POST":
        if form.is_valid():
            version = form.cleaned_data.get("version")
            try:
                if template is not None and version is not None and version != template.version:
                    raise StaleVersion(template.version)
                saved = template_save(
                    actor=request.user, template=template, **form.data_for_service()
                )
            except StaleVersion:
                form.add_error(None, _("Someone changed this template meanwhile: reload it."))
            except ValidationError as error:
                apply_errors(form, _by_form_field(error))
            else:
                messages.success(request, _("The template “%(name)s” is saved.") % {"name": saved})
                return redirect("email_template_edit", pk=saved.pk)
        status = 422
    context = _frame(
        page_title=template.name if template else _("New template"),
        template_record=template,
        form=form,
        merge_fields=merge.fields(),
        picker=forms.PreviewForm(),
    )
    return render(request, "comms/template.html", context, status=status)


def _languages() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]


def _by_form_field(error: ValidationError) -> ValidationError:
    """The service names a variant's field `variants.ru.html`; the form `html_ru`."""
    if not hasattr(error, "error_dict"):
        return error
    renamed = {}
    for field, found in error.message_dict.items():
        if field.startswith("variants."):
            _variants_word, code, name = ([*field.split("."), "", ""])[:3]
            field = f"{name}_{code}" if name else field
        renamed.setdefault(field, []).extend(found)
    return ValidationError(renamed)


@login_required
@require_POST
def template_preview(request):
    """The texts being edited, filled in for a real client (htmx: the preview panel)."""
    _require(request)
    form = forms.TemplateForm(request.POST, languages=_languages())
    form.is_valid()
    data = {name: form.cleaned_data.get(name, "") for name in form.fields}
    chosen = request.POST.get("preview_person", "")
    person = None
    if chosen.isdecimal() and len(chosen) <= 18:
        person = people_visible_to(request.user).filter(pk=int(chosen)).first()
    context = {"person": person}
    if person is not None:
        try:
            draft = template_draft(
                subject=data.get("subject") or "",
                html=forms.as_html(data.get("html") or ""),
                variants={code: {"subject": data.get(f"subject_{code}") or "",
                                 "html": forms.as_html(data.get(f"html_{code}") or "")}
                          for code, _name in _languages()},
            )  # fmt: skip
        except ValidationError as error:
            context["problems"] = error.messages
        else:
            language = language_for(person)
            values = merge.values_for(person=person, user=request.user)
            context["rendered"] = Compiled(draft).render(values, language)
            context["language"] = dict(settings.LANGUAGES).get(language, language)
    return render(request, "comms/template.html#preview", context)


@login_required
@require_POST
def template_remove(request, pk: int):
    _require(request)
    template = get_object_or_404(EmailTemplate, pk=pk)
    try:
        template_delete(actor=request.user, template=template)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, message_of(error))
        return redirect("email_template_edit", pk=pk)
    messages.success(request, _("The template “%(name)s” is removed.") % {"name": template.name})
    return redirect("email_templates")
