"""Per-request account rules: the user's language and time zone, second factor, password age."""

from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation

from accord.accounts.queries import pending_login_step
from accord.core.company import zone_of

# Paths a user can always reach, so the gates below never lock anyone in a loop.
OPEN_PREFIXES = ("/static/", "/api/", "/healthz", "/login/", "/logout/", "/i18n/")


class AccountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if not user.is_authenticated:
            return self.get_response(request)
        if user.language:
            request.LANGUAGE_CODE = user.language
        zone = zone_of(user.time_zone)
        # Both for this request only: the thread serves the next request, maybe someone
        # else's, in its own language and zone.
        with (
            translation.override(user.language or translation.get_language()),
            timezone.override(zone),
        ):
            gate = None if request.path.startswith(OPEN_PREFIXES) else self.gate(request, user)
            return gate or self.get_response(request)

    def gate(self, request, user):
        """Where the user must go first, if anywhere (the page itself stays reachable)."""
        step = pending_login_step(user, verified=user.is_verified())
        if step is None or request.path == reverse(step):
            return None
        if request.headers.get("HX-Request") == "true":
            # A part the page loads by itself (the bell every 30 s): nothing to show until
            # the step is done; redirected, the step's whole page would land in the part.
            return HttpResponse(status=204)
        return redirect_to(step, request)


def redirect_to(name: str, request):
    target = reverse(name)
    if request.method == "GET" and request.path != "/":
        target += "?" + urlencode({"next": request.get_full_path()})
    return redirect(target)
