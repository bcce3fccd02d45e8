"""The web's request rules: the company's language for a browser that asks for none we
speak, and htmx requests that meet a login redirect (an expired session) reload the page."""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import resolve_url
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

from accord.core.company import default_language


class CompanyLocaleMiddleware(LocaleMiddleware):
    """Django's choice (the language cookie, then the browser's languages), except that a
    browser asking for no language Accord speaks gets the company's (Settings → Company)
    rather than the operator's ACCORD_LANGUAGE."""

    def process_request(self, request):
        super().process_request(request)
        if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) or _speaks_one(request):
            return
        language = default_language()
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


def _speaks_one(request) -> bool:
    """Whether the browser asks for a language Accord speaks."""
    accepted = parse_accept_lang_header(request.headers.get("Accept-Language", ""))
    for code, _quality in accepted:
        if code == "*":
            continue
        try:
            translation.get_supported_language_variant(code)
        except LookupError:
            continue
        return True
    return False


class HtmxLoginRedirectMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        login_url = resolve_url(settings.LOGIN_URL)
        if (
            getattr(request, "htmx", False)
            and response.status_code == 302
            and response.get("Location", "").startswith(login_url)
        ):
            # Swapping the login page into a fragment would be nonsense: go to it instead —
            # unless the page asked by itself (the bell, a badge): a poll never takes the
            # page away from under the user; their next click goes to the login.
            response.status_code = 204
            if request.headers.get("X-Accord-Background") != "true":
                response["HX-Redirect"] = response["Location"]
            del response["Location"]
        return response
