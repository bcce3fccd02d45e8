"""Screens of the company's profile: Settings → Company, the first administrator's first
step (country, currency, time zone), and the logo."""

from babel.core import get_global
from babel.numbers import get_territory_currencies
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.cache import cache_control

from accord.accounts import forms
from accord.accounts.views import safe_next
from accord.core.company import company
from accord.core.services import PROFILE_FIELDS, PROFILE_IMAGES, company_profile_update
from accord.core.ui.forms import apply_errors


def company_admin_required(view):
    """Only those who change the company's settings reach these screens (others: 404)."""

    @login_required
    def wrapped(request, *args, **kwargs):
        if not request.user.sets_up_company:
            raise Http404
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


@company_admin_required
def company_settings(request):
    profile = company()
    initial = {name: getattr(profile, name) for name in PROFILE_FIELDS}
    initial["version"] = profile.version
    form = forms.CompanyForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        values = {name: data[name] for name in PROFILE_FIELDS}
        values["language"] = values["language"] or ""
        try:
            company_profile_update(
                actor=request.user,
                version=data["version"],
                # A new picture, False for the "clear" box of the file input, else None.
                images={
                    name: data[name] or (False if data[name] is False else None)
                    for name in PROFILE_IMAGES
                },
                **values,
            )
        except (ValidationError, PermissionDenied) as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("company_settings")
    return render(
        request,
        "accounts/company.html",
        {"page_title": _("Company"), "form": form, "section": "company", "profile": profile},
    )


@company_admin_required
def company_start(request):
    """The first step: asked once, of the first administrator, before anything else."""
    profile = company()
    if profile.set_up_at and request.method == "GET":
        return redirect(safe_next(request))
    guesses = _guesses(request)
    form = forms.CompanyStartForm(request.POST or None, initial=guesses)
    if not form.is_bound and guesses["time_zone"] == "UTC":
        form.fields["time_zone"].widget.attrs["data-browser-zone"] = ""
    if request.method == "POST" and form.is_valid():
        try:
            company_profile_update(actor=request.user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            apply_errors(form, error)
        else:
            return redirect(safe_next(request))
    return render(
        request,
        "accounts/company_start.html",
        {"page_title": _("Welcome to Accord"), "form": form,
         "next": request.GET.get("next", "")},
    )  # fmt: skip


def _guesses(request) -> dict[str, str]:
    """What the step offers first: the operator's settings, else the browser's country
    (its language tag, "ru-RU"), that country's currency and, if it has only one, its
    time zone (the page's script offers the browser's own zone where that is unknown)."""
    country = settings.ACCORD_PHONE_REGION
    if not country:
        for tag, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
            if "-" in tag:
                country = tag.split("-")[-1].upper()
                break
    currencies = get_territory_currencies(country) if country else []
    zones = get_global("territory_zones").get(country, []) if country else []
    return {
        "country": country,
        "currency": currencies[0] if currencies else settings.ACCORD_CURRENCY,
        "time_zone": zones[0] if len(zones) == 1 else settings.TIME_ZONE,
    }


@login_required
@cache_control(private=True, max_age=3600)
def company_image(request, name: str = "logo"):
    """The logo, the signature or the stamp, for everyone logged in (the settings page,
    the documents' preview)."""
    if name not in PROFILE_IMAGES:
        raise Http404
    image = getattr(company(), name)
    if not image:
        raise Http404
    try:
        stream = image.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(stream, content_type=_MEDIA_TYPES[image.name.rsplit(".", 1)[-1]])


_MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
