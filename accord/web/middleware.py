"""htmx requests that meet a login redirect (an expired session) reload the whole page."""

from django.conf import settings
from django.shortcuts import resolve_url


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
            # Swapping the login page into a fragment would be nonsense: go to it instead.
            response.status_code = 204
            response["HX-Redirect"] = response["Location"]
            del response["Location"]
        return response
