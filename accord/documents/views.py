"""Documents on a deal (the card's panel: make one, see its versions, open its PDF) and
Settings → Documents (kinds, templates, the editor with its live preview on a real deal)."""

from io import BytesIO
from pathlib import Path

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import get_language_bidi, gettext_lazy, override
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_POST

from accord.accounts.field_views import settings_admin
from accord.comms.services import may_write_to
from accord.contacts.queries import client_named
from accord.core.api.schemas import id_of
from accord.core.models import CompanyProfile
from accord.core.ui.forms import apply_errors
from accord.documents import pdf, word
from accord.documents.fields import LIST_OF, language_choices, schema, values_for
from accord.documents.models import (
    Document,
    DocumentKind,
    DocumentTemplate,
    NumberSequence,
    new_token,
)
from accord.documents.queries import (
    client_documents,
    deal_documents,
    document_by_token,
    documents_visible_to,
    kinds,
    preview_deals,
    templates_in_use,
)
from accord.documents.rendering import check
from accord.documents.services.documents import (
    document_generate,
    document_regenerate,
    may_make,
)
from accord.documents.services.templates import kind_save, template_retire, template_save
from accord.sales.queries import deals_visible_to


@login_required
def deal_panel(request, deal_id: int):
    """The deal card's documents: GET shows them, POST makes one from a template."""
    deal = get_object_or_404(deals_visible_to(request.user).select_related("owner"), pk=deal_id)
    error = ""
    if request.method == "POST":
        template = DocumentTemplate.objects.filter(pk=id_of(request.POST.get("template"))).first()
        try:
            if template is None:
                raise ValidationError({"template": [_("Choose a template.")]})
            document_generate(
                actor=request.user,
                deal=deal,
                template=template,
                language=request.POST.get("language", ""),
            )
        except (ValidationError, PermissionDenied) as problem:
            error = " ".join(getattr(problem, "messages", [str(problem)]))
        else:
            if not request.htmx:
                return redirect("deal_detail", pk=deal.pk)
    return _panel(request, deal, error)


@login_required
@require_POST
def document_again(request, document_id: int):
    document = get_object_or_404(documents_visible_to(request.user), pk=document_id)
    error = ""
    try:
        document_regenerate(actor=request.user, document=document)
    except (ValidationError, PermissionDenied) as problem:
        error = " ".join(getattr(problem, "messages", [str(problem)]))
    if not request.htmx:
        return redirect("deal_detail", pk=document.deal_id)
    return _panel(request, document.deal, error)


def _panel(request, deal, error: str = ""):
    documents = deal_documents(request.user, deal)
    profile = CompanyProfile.current()
    chosen = id_of(request.POST.get("template")) if request.method == "POST" else None
    return render(
        request,
        "documents/panel.html",
        {
            "deal": deal,
            "documents": documents,
            "templates": templates_in_use(for_deal=True) if may_make(request.user, deal) else [],
            "languages": language_choices(),
            "language": request.POST.get("language") or profile.language or request.LANGUAGE_CODE,
            "chosen": chosen,
            "may_email": may_write_to(request.user, [deal]),
            "pending": any(d.state == Document.PENDING for d in documents),
            "error": error,
        },
    )


@login_required
def client_panel(request):
    """The documents card of a person's or a company's page: every document of their
    deals that the user may see, newest first (loaded into the page by htmx)."""
    person, company = client_named(request.user, request.GET)
    if person is None and company is None:
        raise Http404
    documents = client_documents(request.user, person=person, company=company)
    return render(request, "documents/client_panel.html", {"documents": documents})


@login_required
def document_file(request, token: str, name: str = ""):
    """A document's PDF (or its Word file: a name ending in .docx), for whoever may see its
    deal: the link alone opens nothing."""
    document = document_by_token(request.user, token)
    if document is None or document.state != Document.READY:
        raise Http404
    in_word = name.endswith(".docx")
    stored = document.docx if in_word else document.pdf
    if not stored:
        raise Http404
    return FileResponse(
        stored.open("rb"),
        content_type=word.CONTENT_TYPE if in_word else "application/pdf",
        as_attachment=in_word or bool(request.GET.get("download")),
        filename=document.docx_name if in_word else document.file_name,
    )


# Settings → Documents


class TemplateForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    kind = forms.ModelChoiceField(
        label=gettext_lazy("Kind"), queryset=DocumentKind.objects.filter(retired=False)
    )
    body = forms.CharField(
        label=gettext_lazy("Template"),
        max_length=200_000,
        required=False,
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 24, "spellcheck": "false", "dir": "ltr", "class": "code"}
        ),
        help_text=gettext_lazy(
            "HTML with fields in double braces; the list beside it names every field and "
            "shows how a line repeats for each item."
        ),
    )
    file = forms.FileField(
        label=gettext_lazy("Word file (.docx)"),
        required=False,
        widget=forms.FileInput(attrs={"accept": ".docx"}),
        help_text=gettext_lazy(
            "Type the fields into the document in double braces, as in the list beside it. "
            "A table row that holds only {%tr for item in items %} repeats the row below it "
            "for each item, up to {%tr endfor %}."
        ),
    )


class KindForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    prefix = forms.CharField(
        label=gettext_lazy("Number prefix"),
        max_length=12,
        help_text=gettext_lazy("Numbers read PREFIX-YEAR-0001 and start again each year."),
    )


@settings_admin
def settings_documents(request):
    form = KindForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            kind_save(actor=request.user, data=form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("settings_documents")
    templates = DocumentTemplate.objects.select_related("kind").order_by(
        "retired", "kind__position", "name"
    )
    year = timezone.localdate().year
    taken = dict(NumberSequence.objects.filter(year=year).values_list("kind_id", "last"))
    next_numbers = [
        (kind, f"{kind.prefix}-{year}-{taken.get(kind.pk, 0) + 1:04d}") for kind in kinds()
    ]
    return render(
        request,
        "documents/settings.html",
        {
            "page_title": _("Documents"),
            "section": "documents",
            "kinds": next_numbers,
            "templates": templates,
            "kind_form": form,
        },
    )


@settings_admin
def template_edit(request, template_id: int | None = None):
    template = get_object_or_404(DocumentTemplate, pk=template_id) if template_id else None
    in_word = (template.format if template else request.GET.get("format")) == DocumentTemplate.DOCX
    initial = (
        {"name": str(template), "kind": template.kind, "body": template.body} if template else {}
    )
    if template is None and request.GET.get("copy", "").isdecimal():
        source = DocumentTemplate.objects.filter(pk=request.GET["copy"]).first()
        if source and source.format == DocumentTemplate.HTML:
            initial = {
                "name": _("Copy of %(name)s") % {"name": source},
                "kind": source.kind,
                "body": source.body,
            }
    form = TemplateForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {**form.cleaned_data, "format": DocumentTemplate.DOCX if in_word else ""}
        if not in_word:
            data["file"] = None  # an HTML template is written, not uploaded
        try:
            saved = template_save(actor=request.user, data=data, template=template)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("document_template_edit", template_id=saved.pk)
    return render(
        request,
        "documents/template_form.html",
        {
            "page_title": str(template) if template else _("New template"),
            "section": "documents",
            "template": template,
            "in_word": in_word,
            "office": in_word and word.office() is not None,
            "form": form,
            "fields": _field_list(),
            "deals": preview_deals(request.user),
            "languages": language_choices(),
            "language": CompanyProfile.current().language or request.LANGUAGE_CODE,
        },
    )


@settings_admin
@require_POST
def template_retirement(request, template_id: int):
    template = get_object_or_404(DocumentTemplate, pk=template_id)
    template_retire(actor=request.user, template=template, retired=not template.retired)
    return redirect("settings_documents")


@settings_admin
@require_POST
def template_preview(request):
    """The template as typed, filled from a real deal: what the PDF will print (in a
    sandboxed frame of its own address), the fields that deal lacks, or its problems."""
    body = request.POST.get("body", "")[:200_000]
    problems = [str(problem) for problem in check(body, schema())] if body.strip() else []
    deal = deals_visible_to(request.user).filter(pk=id_of(request.POST.get("deal"))).first()
    kind = DocumentKind.objects.filter(pk=id_of(request.POST.get("kind"))).first()
    language = _chosen_language(request)
    address, missing = "", []
    if body.strip() and not problems and deal is not None:
        draft = DocumentTemplate(pk=None, body=body, version=0)
        values = _trial_values(request, deal, kind, language)
        try:
            made = pdf.html_of(draft, values, language)
        except Exception as error:  # the sandbox's refusal or a runaway loop, said plainly
            problems = [str(error)]
        else:
            token = new_token()
            cache.set(f"{PREVIEW_KEY}{token}", made.html, 600)
            address, missing = reverse("document_template_page", args=[token]), made.missing
    return render(
        request,
        "documents/template_form.html#preview",
        {"problems": problems, "address": address, "missing": missing, "deal": deal},
    )


PREVIEW_KEY = "accord:document-preview:"


@settings_admin
@xframe_options_sameorigin
@csp_override(
    {
        "default-src": ["'none'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
)
def template_page(request, token: str):
    """A preview's page, for the editor's frame: the template's own styles apply, and
    nothing in it runs (no script, the frame sandboxed)."""
    html = cache.get(f"{PREVIEW_KEY}{token}")
    if html is None:
        raise Http404
    # The PDF's page, as a screen shows it: its fonts and type size, a sheet's margins.
    screen = (f'<link rel="stylesheet" href="{static("vendor/fonts.css")}">'
              f"<style>{pdf.SCREEN_CSS}</style>")  # fmt: skip
    return HttpResponse(html.replace("<head>", "<head>" + screen, 1))


def _chosen_language(request) -> str:
    codes = [code for code, _name in language_choices()]
    return request.POST.get("language") if request.POST.get("language") in codes else codes[0]


def _trial_values(request, deal, kind, language: str) -> dict:
    """What a template tried on `deal` is filled with: a document numbered as the kind's first."""
    today = timezone.localdate()
    return values_for(
        deal=deal,
        user=request.user,
        language=language,
        number=f"{kind.prefix if kind else 'DOC'}-{today.year}-0001",
        title=kind.name if kind else _("Preview"),
        version=1,
        issued_on=today,
    )


@settings_admin
@require_POST
def template_try(request, template_id: int):
    """A Word template filled from a real deal: the fields it lacks, and the filled file
    (and its PDF) to download for ten minutes."""
    template = get_object_or_404(DocumentTemplate, pk=template_id, format=DocumentTemplate.DOCX)
    deal = deals_visible_to(request.user).filter(pk=id_of(request.POST.get("deal"))).first()
    context = {"template": template, "deal": deal, "office": word.office() is not None}
    if deal is not None:
        values = _trial_values(request, deal, template.kind, _chosen_language(request))
        try:
            filled = word.fill(Path(template.file.path), values)
        except Exception as error:  # the sandbox's refusal or a runaway loop, said plainly
            context["problems"] = [str(error)]
        else:
            token = new_token()
            cache.set(f"{TRIAL_KEY}{token}", filled.docx, 600)
            context |= {"token": token, "missing": filled.missing}
    return render(request, "documents/template_form.html#trial", context)


TRIAL_KEY = "accord:document-trial:"


@settings_admin
def template_filled(request, token: str, name: str):
    """A tried Word template's file, or the PDF LibreOffice prints of it."""
    content = cache.get(f"{TRIAL_KEY}{token}")
    if content is None:
        raise Http404
    if not name.endswith(".pdf"):
        return FileResponse(
            BytesIO(content), content_type=word.CONTENT_TYPE, as_attachment=True, filename=name
        )
    try:
        printed = word.to_pdf(content)
    except word.PdfUnavailable as reason:
        return HttpResponse(str(reason), status=503, content_type="text/plain; charset=utf-8")
    return FileResponse(BytesIO(printed), content_type="application/pdf", filename=name)


@settings_admin
def template_file(request, template_id: int):
    """The Word file a template was uploaded as, to edit it in Word and upload it again."""
    template = get_object_or_404(DocumentTemplate, pk=template_id, format=DocumentTemplate.DOCX)
    if not template.file:
        raise Http404
    return FileResponse(
        template.file.open("rb"),
        content_type=word.CONTENT_TYPE,
        as_attachment=True,
        filename=f"{slugify(str(template)) or 'template'}.docx",
    )


@settings_admin
def template_example(request):
    """A contract in Word with the fields in place, to start a Word template from."""
    with override(CompanyProfile.current().language or request.LANGUAGE_CODE):
        rtl = get_language_bidi()
    return FileResponse(
        BytesIO(word.example(rtl=rtl)),
        content_type=word.CONTENT_TYPE,
        as_attachment=True,
        filename="accord-contract-example.docx",
    )


def _field_list() -> list[tuple[str, list[tuple[str, str]]]]:
    """The fields a template may name, grouped by root, for the editor's side list."""
    groups = []
    for root, fields in schema().roots.items():
        if not isinstance(fields, dict):
            groups.append((root, [(root, str(fields))]))
            continue
        if LIST_OF in fields:
            groups.append(
                (root, [(f"item.{key}", str(label)) for key, label in fields[LIST_OF].items()])
            )
            continue
        rows = []
        for key, label in fields.items():
            if isinstance(label, dict):
                rows += [(f"{root}.fields.{sub}", str(text)) for sub, text in label.items()]
            else:
                rows.append((f"{root}.{key}", str(label)))
        groups.append((root, rows))
    return groups
