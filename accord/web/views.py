"""The shell's own pages: Today (home), login, health check."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accord.core.queries import health_now
from accord.web.search import MIN_QUERY, search_everything


class EmailLoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "That e-mail and password do not match an account. Check both and try again."
        ),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("E-mail")
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "email", "inputmode": "email", "autofocus": True}
        )


login = auth_views.LoginView.as_view(
    template_name="web/login.html",
    authentication_form=EmailLoginForm,
    redirect_authenticated_user=True,
)
logout = auth_views.LogoutView.as_view()


def csrf_failure(request, reason=""):
    """A form sent without its security token: usually a page left open too long."""
    return render(request, "web/csrf_failure.html", status=403)


@login_required
@require_GET
def search(request):
    query = request.GET.get("q", "")[:200]
    context = {
        "page_title": _("Search"),
        "query": query,
        "groups": search_everything(request.user, query),
        "too_short": len(query.strip()) < MIN_QUERY,
    }
    if request.htmx:
        return render(request, "web/search.html#results", context)
    return render(request, "web/search.html", context)


@never_cache
@require_GET
def healthz(request):
    """For load balancers: 200 when the database answers, with the worker's heartbeat age."""
    health = health_now()
    return JsonResponse(health.as_dict(), status=200 if health.database_ok else 503)
