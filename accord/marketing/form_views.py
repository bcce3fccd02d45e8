"""Web forms: the list and the editor (with the code to put on the company's site and the
latest requests), and the public page a visitor fills in — no login, no JavaScript
needed — whose requests become clients and deals."""

from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from ipware import get_client_ip

from accord.accounts.models import Team
from accord.core.custom_fields import active_fields
from accord.core.ui.forms import apply_errors
from accord.core.visibility import may_change
from accord.marketing.models import Campaign, Channel, Submission, WebForm
from accord.marketing.queries import (
    campaigns_visible_to,
    submissions_visible_to,
    submissions_waiting,
)
from accord.marketing.services import FIELDS, form_save, may_write_campaign, submission_receive
from accord.marketing.services.consent import consent_request_confirm, consent_request_open
from accord.marketing.services.filing import submissions_refile
from accord.marketing.services.forms import CAME_FROM, HONEYPOT, STARTED, started_mark
from accord.marketing.views import _may_read
from accord.sales.models import Pipeline


def _choices() -> list[tuple[str, str]]:
    return [(key, str(label)) for key, (label, _limit) in FIELDS.items()] + [
        (f"cf.{field.key}", field.label) for field in active_fields("person")
    ]


class WebFormForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    asked = forms.MultipleChoiceField(
        label=gettext_lazy("Fields"), required=False, widget=forms.CheckboxSelectMultiple
    )
    required = forms.MultipleChoiceField(
        label=gettext_lazy("Required"), required=False, widget=forms.CheckboxSelectMultiple
    )
    consent_text = forms.CharField(
        label=gettext_lazy("Consent text"), required=False, max_length=2000,
        widget=forms.Textarea({"rows": 2}),
        help_text=gettext_lazy("Shown beside a checkbox; ticked, the client agrees to offers."),
    )  # fmt: skip
    consent_required = forms.BooleanField(
        label=gettext_lazy("The box must be ticked to send"), required=False
    )
    double_opt_in = forms.BooleanField(
        label=gettext_lazy("Confirm the consent by e-mail (double opt-in)"), required=False,
        help_text=gettext_lazy("The visitor gets a link by e-mail; the consent is recorded "
                               "only when they click it."),
    )  # fmt: skip
    thanks_text = forms.CharField(
        label=gettext_lazy("Thank-you text"), required=False, max_length=2000,
        widget=forms.Textarea({"rows": 2}),
    )  # fmt: skip
    redirect_url = forms.CharField(
        label=gettext_lazy("Page to open after sending (instead of the thank-you text)"),
        required=False,
        max_length=500,
    )
    allowed_sites = forms.CharField(
        label=gettext_lazy("Allowed sites"), required=False, max_length=2000,
        widget=forms.Textarea({"rows": 2, "dir": "ltr"}),
        help_text=gettext_lazy("One a line (shop.example.com). Requests from other sites are "
                               "thanked and dropped; empty: any site."),
    )  # fmt: skip
    channel = forms.ModelChoiceField(
        label=gettext_lazy("Channel"), required=False, queryset=Channel.objects.none()
    )
    campaign = forms.ModelChoiceField(
        label=gettext_lazy("Campaign"), required=False, queryset=Campaign.objects.none()
    )
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team that shares out the requests"), required=False,
        queryset=Team.objects.all(),
    )  # fmt: skip
    creates_deal = forms.BooleanField(
        label=gettext_lazy("Make a deal for each request"), required=False
    )
    pipeline = forms.ModelChoiceField(
        label=gettext_lazy("Pipeline"), required=False, queryset=Pipeline.objects.none()
    )
    retired = forms.BooleanField(label=gettext_lazy("Switched off"), required=False)

    def __init__(self, *args, user, form: WebForm | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = _choices()
        self.fields["asked"].choices = self.fields["required"].choices = choices
        # Those in use, and the form's own even if retired since (saving keeps them).
        keep = {
            key: getattr(form, f"{key}_id", None) for key in ("channel", "campaign", "pipeline")
        }
        self.fields["channel"].queryset = Channel.objects.filter(
            Q(retired=False) | Q(pk=keep["channel"])
        )
        self.fields["campaign"].queryset = campaigns_visible_to(user).filter(
            Q(retired=False) | Q(pk=keep["campaign"])
        )
        self.fields["pipeline"].queryset = Pipeline.objects.filter(
            Q(retired=False) | Q(pk=keep["pipeline"])
        )


def _initial(form: WebForm | None, user) -> dict:
    if form is None:
        site = Channel.objects.filter(code="site").first()
        return {"asked": ["name", "phone", "email", "message"], "required": ["name", "phone"],
                "creates_deal": may_change(user, "deals", user), "channel": site,
                "thanks_text": _("Thank you! We will call you back soon.")}  # fmt: skip
    return {
        "name": form.name,
        "asked": [item["key"] for item in form.fields],
        "required": [item["key"] for item in form.fields if item["required"]],
        **{key: getattr(form, key) for key in (
            "consent_text", "consent_required", "double_opt_in", "thanks_text", "redirect_url",
            "allowed_sites", "channel", "campaign", "team", "creates_deal", "pipeline",
            "retired")},
    }  # fmt: skip


@login_required
def web_forms(request):
    _may_read(request.user)
    return render(
        request,
        "marketing/forms.html",
        {"forms": WebForm.objects.select_related("channel", "campaign"),
         "may_write": may_write_campaign(request.user)},
    )  # fmt: skip


@login_required
def web_form_edit(request, form_id: int | None = None):
    _may_read(request.user)
    found = get_object_or_404(WebForm, pk=form_id) if form_id else None
    if request.method == "POST" and not may_write_campaign(request.user):
        raise Http404
    form = WebFormForm(
        request.POST or None, initial=_initial(found, request.user), user=request.user, form=found
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        required = set(data.pop("required"))
        data["fields"] = [{"key": key, "required": key in required} for key in data.pop("asked")]
        try:
            saved = form_save(actor=request.user, data=data, form=found)
        except ValidationError as error:
            apply_errors(form, _on_form_fields(error))
        except PermissionDenied as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, _("Saved."))
            return redirect("web_form_edit", form_id=saved.pk)
    return render(
        request,
        "marketing/form_edit.html",
        {
            "web_form": found,
            "form": form,
            "may_write": may_write_campaign(request.user),
            "address": _public_address(found) if found else "",
            "snippet": _snippet(found) if found else "",
            "script": (
                f'<script src="{settings.ACCORD_BASE_URL.rstrip("/")}'
                f'{reverse("web_form_script")}" async></script>'
            ),
            "submissions": submissions_visible_to(request.user, found)[:20] if found else [],
            "waiting": submissions_waiting(found) if found else 0,
        },
    )


@login_required
@require_POST
def submission_refile(request, submission_id: int):
    """ "File again" on a request that made no client, once its reason is mended."""
    _may_read(request.user)
    found = get_object_or_404(Submission, pk=submission_id)
    try:
        submissions_refile(actor=request.user, submission=found)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
    else:
        messages.success(request, _("The request is filed again in a moment."))
    return redirect("web_form_edit", form_id=found.form_id)


def _on_form_fields(error: ValidationError) -> ValidationError:
    """The service's "fields" problem shown on the checkboxes that choose them."""
    if hasattr(error, "error_dict") and "fields" in error.error_dict:
        error.error_dict["asked"] = error.error_dict.pop("fields")
    return error


def _public_address(form: WebForm) -> str:
    return settings.ACCORD_BASE_URL.rstrip("/") + reverse("web_form_public", args=[form.token])


def _snippet(form: WebForm) -> str:
    """The plain HTML form to paste into the company's site: it posts to Accord and works
    without JavaScript."""
    labels = dict(_choices())
    lines = [f'<form action="{_public_address(form)}" method="post" accept-charset="utf-8">']
    for item in form.fields:
        key = item["key"]
        kind = {"email": "email", "phone": "tel"}.get(key, "text")
        required = " required" if item["required"] else ""
        if key == "message":
            field = f'<textarea name="{key}"{required}></textarea>'
        else:
            field = f'<input type="{kind}" name="{key}"{required}>'
        lines.append(f"  <label>{escape(labels.get(key, key))}<br>{field}</label><br>")
    if form.consent_text:
        required = " required" if form.consent_required else ""
        lines.append(f'  <label><input type="checkbox" name="consent" value="1"{required}> '
                     f"{escape(form.consent_text)}</label><br>")  # fmt: skip
    trap = "position:absolute;inset-inline-start:-5000px"  # off screen, either direction
    lines.append(f'  <input type="text" name="{HONEYPOT}" tabindex="-1" autocomplete="off" '
                 f'style="{trap}" aria-hidden="true">')  # fmt: skip
    lines.append(f'  <button type="submit">{escape(_("Send"))}</button>')
    lines.append("</form>")
    return "\n".join(lines)


# --- The public page ---------------------------------------------------------------------


@csrf_exempt  # a form on another site posts here; it carries no session to protect
def web_form_public(request, token: str):
    """The form a visitor fills in (GET), and its request (POST): thanked, or shown again
    with what to mend. Where the visitor came from rides along in hidden fields."""
    form = get_object_or_404(WebForm, token=token, retired=False)
    if request.method == "POST":
        received = submission_receive(
            form=form,
            values=request.POST,
            came_from=_came_from(request, request.POST),
            address=get_client_ip(request)[0] or "",  # as the login throttle reads it
            origin=request.headers.get("Origin") or request.headers.get("Referer", ""),
            own_host=request.get_host().lower(),
        )
        if "application/json" in request.headers.get("Accept", ""):
            return _answer_script(request, form, received)
        if not received.errors:
            if form.redirect_url:
                return redirect(form.redirect_url)
            return render(
                request, "marketing/public_form.html", {"web_form": form, "thanked": True}
            )
        return render(
            request,
            "marketing/public_form.html",
            {"web_form": form, "rows": _rows(form, request.POST, received.errors),
             "errors": received.errors, "started": request.POST.get(STARTED, ""),
             "came_from": _came_from(request, request.POST),
             "consent": bool(request.POST.get("consent"))},
            status=422,
        )  # fmt: skip
    return render(
        request,
        "marketing/public_form.html",
        {"web_form": form, "rows": _rows(form, {}, {}), "started": started_mark(),
         "came_from": _came_from(request, request.GET)},
    )  # fmt: skip


def _answer_script(request, form: WebForm, received) -> JsonResponse:
    """The in-page script's answer, readable by the form's own site (CORS). A request to
    mend is a 200 too, with `ok` false: a 4xx would print an error in the console of the
    company's own site for a visitor's typo."""
    if received.errors:
        body = {"ok": False, "errors": received.errors}
    else:
        thanks = form.thanks_text or _("Thank you! We will contact you soon.")
        body = {"ok": True, "thanks": thanks, "redirect": form.redirect_url or None}
    answer = JsonResponse(body)
    origin = request.headers.get("Origin", "")
    host = urlsplit(origin).netloc.lower()
    if origin and (not form.allowed_sites or host in form.allowed_sites.split()):
        answer["Access-Control-Allow-Origin"] = origin
        answer["Vary"] = "Origin"
    return answer


def web_form_script(request):
    """The script a site adds once (see accord/marketing/templates/marketing/forms.js)."""
    answer = render(
        request, "marketing/forms.js",
        {"started": started_mark(),
         "forms_address": request.build_absolute_uri("/f/")},  # where this script came from
        content_type="application/javascript; charset=utf-8",
    )  # fmt: skip
    answer["Cache-Control"] = "no-store"
    return answer


def _came_from(request, source) -> dict:
    """UTM tags and click ids from the page's address (or the hidden fields), the page the
    visitor came from and the one they landed on."""
    found = {key: str(source.get(key) or "")[:500] for key in CAME_FROM}
    if not found["referrer"] and request.method == "GET":
        found["referrer"] = request.headers.get("Referer", "")[:500]
    return found


def _rows(form: WebForm, values, errors: dict) -> list[dict]:
    labels = dict(_choices())
    return [
        {"key": item["key"], "label": labels.get(item["key"], item["key"]),
         "required": item["required"], "value": values.get(item["key"], ""),
         "errors": errors.get(item["key"], []),
         "kind": {"email": "email", "phone": "tel", "message": "textarea"}.get(item["key"], "text")}
        for item in form.fields
    ]  # fmt: skip


def consent_public(request, token: str):
    """A web form's double opt-in link: the consent the visitor ticked, and a button that
    confirms it (a click, not the opening: a mail program's link checker opens links).
    In the language of the page they sent the request from."""
    found = consent_request_open(token)
    if found is None:
        return render(request, "marketing/public_consent.html", {"gone": True}, status=404)
    with translation.override(found.language or settings.LANGUAGE_CODE):
        if request.method == "POST" and found.confirmed_at is None:
            consent_request_confirm(request=found)
            found.refresh_from_db(fields=["confirmed_at"])
        return render(request, "marketing/public_consent.html", {
            "request_": found, "consent": found.form.consent_text,
            "rtl": translation.get_language_bidi(),
        })  # fmt: skip
